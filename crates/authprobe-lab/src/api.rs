//! The lab's API, defined once: the table of operations from which both the router and the
//! served descriptions (`/openapi.json`, `/openapi.yaml`, `/swagger.json`) are derived, so
//! the two can never disagree.
//!
//! Every operation is under `/api/v1/`. Most enforce the same authentication as
//! [`PROTECTED_PATH`](crate::PROTECTED_PATH) (the app calls the same check, so every flaw
//! and mode behaves alike on all of them). The exceptions are documented here:
//!
//! - [`PUBLIC_OPERATIONS`]: declared public on purpose (`security: []`), answered to anyone
//!   in every profile. Not a flaw.
//! - [`AUTH_MISSING_OPERATIONS`]: four GET operations the flaw `auth.missing` leaves
//!   unenforced: they answer any request, with credentials or without, while their
//!   description still says `bearerAuth`. [`LabOptions::open_operations`]
//!   (crate::LabOptions::open_operations) leaves any other operation unenforced the same
//!   way, whatever the flaws.
//! - [`APIKEY_OPERATION`]: authenticated by the lab's API key, in header `X-API-Key`, or
//!   (flaw `spec.apikey_in_query`) in the query parameter `api_key`; without a key it falls
//!   back to the bearer check of the other routes.
//! - [`SECURITY_UNDECLARED_OPERATION`]: under `spec.security_undeclared` its description
//!   has no `security` key at all (the documents never have a root-level `security`); the
//!   route stays enforced.

use crate::flaws::Flaws;
use crate::modes::Modes;
use anyhow::{Result, bail};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// The operation declared public on purpose (`security: []`): it answers anyone, always.
pub const PUBLIC_OPERATIONS: &[&str] = &["getStatus"];

/// The operations the flaw `auth.missing` leaves unenforced: a list, an item behind a path
/// parameter, a search with query parameters and a nested collection.
pub const AUTH_MISSING_OPERATIONS: &[&str] = &[
    "listProjects",
    "getInvoice",
    "searchAuditEvents",
    "listOrderItems",
];

/// The operation authenticated by the lab's API key.
pub const APIKEY_OPERATION: &str = "exportReports";

/// The operation whose `security` the documents leave out under `spec.security_undeclared`.
pub const SECURITY_UNDECLARED_OPERATION: &str = "listTeamMembers";

/// The protected resource's operation ([`PROTECTED_PATH`](crate::PROTECTED_PATH)), served by
/// its own handler.
pub const ME_OPERATION: &str = "getCurrentUser";

pub const OPENAPI_JSON_PATH: &str = "/openapi.json";
pub const OPENAPI_YAML_PATH: &str = "/openapi.yaml";
pub const SWAGGER_JSON_PATH: &str = "/swagger.json";

/// The header and query parameter that carry the API key.
pub const APIKEY_HEADER: &str = "X-API-Key";
pub const APIKEY_QUERY: &str = "api_key";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Put => "put",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
        }
    }

    pub fn of(m: &hyper::Method) -> Option<Verb> {
        Some(match *m {
            hyper::Method::GET | hyper::Method::HEAD => Verb::Get,
            hyper::Method::POST => Verb::Post,
            hyper::Method::PUT => Verb::Put,
            hyper::Method::PATCH => Verb::Patch,
            hyper::Method::DELETE => Verb::Delete,
            _ => return None,
        })
    }
}

/// How an operation authenticates, as its description declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// `bearerAuth`; enforced like `/api/v1/me` (certificate and bound token).
    Bearer,
    /// `bearerAuth` and `mtls` together (3.1; Swagger 2.0 can only say the bearer).
    BearerMtls,
    /// `basicAuth`: the login.
    Basic,
    /// `headerKey`, or `queryKey` under `spec.apikey_in_query`.
    ApiKey,
    /// `security: []`.
    Public,
}

/// A query parameter.
#[derive(Clone, Copy, Debug)]
pub enum Query {
    /// `#/components/parameters/Limit`: integer 1..=100, default 20.
    Limit,
    /// `#/components/parameters/Since`: a date-time.
    Since,
    Enum {
        name: &'static str,
        values: &'static [&'static str],
        required: bool,
    },
    Text {
        name: &'static str,
        required: bool,
    },
    Date {
        name: &'static str,
        required: bool,
    },
    Flag {
        name: &'static str,
    },
}

/// What a successful answer carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// 200 `{"operation", "items": [S]}`.
    List,
    /// 200 `{"operation", "item": S}`.
    Item,
    /// 201 `{"operation", "item": S}`.
    Created,
    /// 200 `{"operation", "result": "deleted"}`.
    Deleted,
    /// 202 `{"operation", "result": "accepted"}`.
    Accepted,
    /// The answer of a route with its own handler: the schema itself.
    Raw,
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct OpDef {
    pub verb: Verb,
    pub path: &'static str,
    pub id: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// The component schema of the resource.
    pub schema: &'static str,
    pub shape: Shape,
    pub query: &'static [Query],
    /// A required JSON request body, by component schema.
    pub body: Option<&'static str>,
    pub auth: Auth,
    /// Served by a handler of its own (`/api/v1/me`, the login), not by the table's router.
    pub builtin: bool,
}

const fn def(
    verb: Verb,
    path: &'static str,
    id: &'static str,
    tag: &'static str,
    schema: &'static str,
    shape: Shape,
    summary: &'static str,
) -> OpDef {
    OpDef {
        verb,
        path,
        id,
        tag,
        summary,
        schema,
        shape,
        query: &[],
        body: None,
        auth: Auth::Bearer,
        builtin: false,
    }
}

impl OpDef {
    const fn query(mut self, q: &'static [Query]) -> Self {
        self.query = q;
        self
    }
    const fn body(mut self, schema: &'static str) -> Self {
        self.body = Some(schema);
        self
    }
    const fn auth(mut self, a: Auth) -> Self {
        self.auth = a;
        self
    }
    const fn builtin(mut self) -> Self {
        self.builtin = true;
        self
    }
}

use Shape::{Accepted, Created, Deleted, Item, List, Raw};
use Verb::{Delete, Get, Patch, Post, Put};

const ORDER_STATUS: &[&str] = &["pending", "paid", "shipped", "cancelled"];
const INVOICE_STATUS: &[&str] = &["draft", "open", "paid", "void"];
const TASK_STATUS: &[&str] = &["open", "done"];
const SEVERITY: &[&str] = &["info", "warning", "critical"];

/// The API. Keep `/api/v1/me` and the login in step with their handlers in `app.rs`.
pub const OPERATIONS: &[OpDef] = &[
    // users
    def(
        Get,
        "/api/v1/me",
        ME_OPERATION,
        "users",
        "Me",
        Raw,
        "The caller and their account",
    )
    .auth(Auth::BearerMtls)
    .builtin(),
    def(
        Get,
        "/api/v1/users",
        "listUsers",
        "users",
        "User",
        List,
        "List users",
    )
    .query(&[
        Query::Limit,
        Query::Enum {
            name: "role",
            values: &["user", "admin"],
            required: false,
        },
    ]),
    def(
        Post,
        "/api/v1/users",
        "createUser",
        "users",
        "User",
        Created,
        "Create a user",
    )
    .body("UserInput"),
    def(
        Get,
        "/api/v1/users/{userId}",
        "getUser",
        "users",
        "User",
        Item,
        "Get a user",
    ),
    def(
        Patch,
        "/api/v1/users/{userId}",
        "updateUser",
        "users",
        "User",
        Item,
        "Update a user",
    )
    .body("UserInput"),
    def(
        Delete,
        "/api/v1/users/{userId}",
        "deleteUser",
        "users",
        "User",
        Deleted,
        "Delete a user",
    ),
    // auth
    def(
        Post,
        "/api/v1/login",
        "login",
        "auth",
        "Token",
        Raw,
        "Exchange Basic credentials for a token",
    )
    .auth(Auth::Basic)
    .builtin(),
    def(
        Get,
        "/api/v1/login",
        "loginWithGet",
        "auth",
        "Token",
        Raw,
        "Exchange Basic credentials for a token (GET)",
    )
    .auth(Auth::Basic)
    .builtin(),
    // system
    def(
        Get,
        "/api/v1/status",
        "getStatus",
        "system",
        "Status",
        Raw,
        "Service status (public)",
    )
    .auth(Auth::Public),
    // orders
    def(
        Get,
        "/api/v1/orders",
        "listOrders",
        "orders",
        "Order",
        List,
        "List orders",
    )
    .query(&[
        Query::Limit,
        Query::Enum {
            name: "status",
            values: ORDER_STATUS,
            required: false,
        },
        Query::Since,
    ]),
    def(
        Post,
        "/api/v1/orders",
        "createOrder",
        "orders",
        "Order",
        Created,
        "Place an order",
    )
    .body("OrderInput"),
    def(
        Get,
        "/api/v1/orders/{orderId}",
        "getOrder",
        "orders",
        "Order",
        Item,
        "Get an order",
    ),
    def(
        Put,
        "/api/v1/orders/{orderId}",
        "replaceOrder",
        "orders",
        "Order",
        Item,
        "Replace an order",
    )
    .body("OrderInput"),
    def(
        Delete,
        "/api/v1/orders/{orderId}",
        "cancelOrder",
        "orders",
        "Order",
        Deleted,
        "Cancel an order",
    ),
    def(
        Get,
        "/api/v1/orders/{orderId}/items",
        "listOrderItems",
        "orders",
        "OrderItem",
        List,
        "List an order's items",
    )
    .query(&[Query::Limit]),
    def(
        Get,
        "/api/v1/orders/{orderId}/items/{itemId}",
        "getOrderItem",
        "orders",
        "OrderItem",
        Item,
        "Get one item of an order",
    ),
    def(
        Get,
        "/api/v1/orders/{orderId}/shipments",
        "listOrderShipments",
        "orders",
        "Shipment",
        List,
        "List an order's shipments",
    ),
    // invoices
    def(
        Get,
        "/api/v1/invoices",
        "listInvoices",
        "invoices",
        "Invoice",
        List,
        "List invoices",
    )
    .query(&[
        Query::Limit,
        Query::Enum {
            name: "status",
            values: INVOICE_STATUS,
            required: false,
        },
        Query::Since,
    ]),
    def(
        Get,
        "/api/v1/invoices/{invoiceId}",
        "getInvoice",
        "invoices",
        "Invoice",
        Item,
        "Get an invoice",
    ),
    def(
        Get,
        "/api/v1/invoices/{invoiceId}/pdf",
        "getInvoiceDocument",
        "invoices",
        "Document",
        Item,
        "Get an invoice's rendered document",
    ),
    def(
        Post,
        "/api/v1/invoices/{invoiceId}/send",
        "sendInvoice",
        "invoices",
        "Invoice",
        Accepted,
        "Email an invoice to its customer",
    ),
    def(
        Post,
        "/api/v1/invoices/{invoiceId}/void",
        "voidInvoice",
        "invoices",
        "Invoice",
        Accepted,
        "Void an invoice",
    ),
    // projects
    def(
        Get,
        "/api/v1/projects",
        "listProjects",
        "projects",
        "Project",
        List,
        "List projects",
    )
    .query(&[Query::Limit, Query::Flag { name: "archived" }]),
    def(
        Post,
        "/api/v1/projects",
        "createProject",
        "projects",
        "Project",
        Created,
        "Create a project",
    )
    .body("ProjectInput"),
    def(
        Get,
        "/api/v1/projects/{projectId}",
        "getProject",
        "projects",
        "Project",
        Item,
        "Get a project",
    ),
    def(
        Patch,
        "/api/v1/projects/{projectId}",
        "updateProject",
        "projects",
        "Project",
        Item,
        "Update a project",
    )
    .body("ProjectInput"),
    def(
        Delete,
        "/api/v1/projects/{projectId}",
        "deleteProject",
        "projects",
        "Project",
        Deleted,
        "Delete a project",
    ),
    def(
        Get,
        "/api/v1/projects/{projectId}/members",
        "listProjectMembers",
        "projects",
        "Member",
        List,
        "List a project's members",
    ),
    def(
        Get,
        "/api/v1/projects/{projectId}/tasks",
        "listProjectTasks",
        "projects",
        "Task",
        List,
        "List a project's tasks",
    )
    .query(&[
        Query::Limit,
        Query::Enum {
            name: "status",
            values: TASK_STATUS,
            required: false,
        },
    ]),
    def(
        Get,
        "/api/v1/projects/{projectId}/tasks/{taskId}",
        "getProjectTask",
        "projects",
        "Task",
        Item,
        "Get a task",
    ),
    // reports
    def(
        Get,
        "/api/v1/reports",
        "listReports",
        "reports",
        "Report",
        List,
        "List reports",
    )
    .query(&[Query::Limit]),
    def(
        Post,
        "/api/v1/reports",
        "createReport",
        "reports",
        "Report",
        Created,
        "Schedule a report",
    )
    .body("ReportInput"),
    def(
        Get,
        "/api/v1/reports/export",
        "exportReports",
        "reports",
        "Report",
        List,
        "Export every report (machine clients, API key)",
    )
    .query(&[Query::Enum {
        name: "format",
        values: &["json", "csv"],
        required: false,
    }])
    .auth(Auth::ApiKey),
    def(
        Get,
        "/api/v1/reports/summary",
        "getReportSummary",
        "reports",
        "Summary",
        Item,
        "Summarise a period",
    )
    .query(&[
        Query::Date {
            name: "from",
            required: true,
        },
        Query::Date {
            name: "to",
            required: false,
        },
    ]),
    def(
        Get,
        "/api/v1/reports/{reportId}",
        "getReport",
        "reports",
        "Report",
        Item,
        "Get a report",
    ),
    // billing
    def(
        Get,
        "/api/v1/billing/account",
        "getBillingAccount",
        "billing",
        "BillingAccount",
        Item,
        "Get the billing account",
    )
    .auth(Auth::BearerMtls),
    def(
        Get,
        "/api/v1/billing/payment-methods",
        "listPaymentMethods",
        "billing",
        "PaymentMethod",
        List,
        "List payment methods",
    )
    .auth(Auth::BearerMtls),
    def(
        Post,
        "/api/v1/billing/payment-methods",
        "addPaymentMethod",
        "billing",
        "PaymentMethod",
        Created,
        "Add a payment method",
    )
    .body("PaymentMethodInput")
    .auth(Auth::BearerMtls),
    def(
        Delete,
        "/api/v1/billing/payment-methods/{paymentMethodId}",
        "removePaymentMethod",
        "billing",
        "PaymentMethod",
        Deleted,
        "Remove a payment method",
    )
    .auth(Auth::BearerMtls),
    def(
        Get,
        "/api/v1/billing/usage",
        "getBillingUsage",
        "billing",
        "Usage",
        Item,
        "Get usage",
    )
    .query(&[
        Query::Since,
        Query::Enum {
            name: "granularity",
            values: &["day", "month"],
            required: false,
        },
    ]),
    def(
        Get,
        "/api/v1/billing/charges",
        "listCharges",
        "billing",
        "Charge",
        List,
        "List charges",
    )
    .query(&[Query::Limit, Query::Since]),
    // audit
    def(
        Get,
        "/api/v1/audit/events",
        "searchAuditEvents",
        "audit",
        "AuditEvent",
        List,
        "Search the audit log",
    )
    .query(&[
        Query::Limit,
        Query::Since,
        Query::Enum {
            name: "severity",
            values: SEVERITY,
            required: false,
        },
        Query::Text {
            name: "actor",
            required: false,
        },
    ]),
    def(
        Get,
        "/api/v1/audit/events/{eventId}",
        "getAuditEvent",
        "audit",
        "AuditEvent",
        Item,
        "Get an audit event",
    ),
    def(
        Get,
        "/api/v1/audit/exports",
        "listAuditExports",
        "audit",
        "AuditExport",
        List,
        "List audit log exports",
    ),
    def(
        Post,
        "/api/v1/audit/exports",
        "createAuditExport",
        "audit",
        "AuditExport",
        Accepted,
        "Start an audit log export",
    )
    .body("AuditExportInput"),
    // files
    def(
        Get,
        "/api/v1/files",
        "listFiles",
        "files",
        "File",
        List,
        "List files",
    )
    .query(&[
        Query::Limit,
        Query::Text {
            name: "prefix",
            required: false,
        },
    ]),
    def(
        Post,
        "/api/v1/files",
        "createFile",
        "files",
        "File",
        Created,
        "Register a file",
    )
    .body("FileInput"),
    def(
        Get,
        "/api/v1/files/{fileId}",
        "getFile",
        "files",
        "File",
        Item,
        "Get a file's metadata",
    ),
    def(
        Delete,
        "/api/v1/files/{fileId}",
        "deleteFile",
        "files",
        "File",
        Deleted,
        "Delete a file",
    ),
    def(
        Get,
        "/api/v1/files/{fileId}/versions",
        "listFileVersions",
        "files",
        "FileVersion",
        List,
        "List a file's versions",
    ),
    // teams
    def(
        Get,
        "/api/v1/teams",
        "listTeams",
        "teams",
        "Team",
        List,
        "List teams",
    )
    .query(&[Query::Limit]),
    def(
        Post,
        "/api/v1/teams",
        "createTeam",
        "teams",
        "Team",
        Created,
        "Create a team",
    )
    .body("TeamInput"),
    def(
        Get,
        "/api/v1/teams/{teamId}",
        "getTeam",
        "teams",
        "Team",
        Item,
        "Get a team",
    ),
    def(
        Get,
        "/api/v1/teams/{teamId}/members",
        "listTeamMembers",
        "teams",
        "Member",
        List,
        "List a team's members",
    ),
    def(
        Put,
        "/api/v1/teams/{teamId}/members/{userId}",
        "addTeamMember",
        "teams",
        "Member",
        Item,
        "Add a member to a team",
    )
    .body("MemberInput"),
    def(
        Delete,
        "/api/v1/teams/{teamId}/members/{userId}",
        "removeTeamMember",
        "teams",
        "Member",
        Deleted,
        "Remove a member from a team",
    ),
    // settings
    def(
        Get,
        "/api/v1/settings",
        "getSettings",
        "settings",
        "Settings",
        Item,
        "Get the account settings",
    ),
    def(
        Patch,
        "/api/v1/settings",
        "updateSettings",
        "settings",
        "Settings",
        Item,
        "Update the account settings",
    )
    .body("SettingsInput"),
    def(
        Get,
        "/api/v1/settings/webhooks",
        "listWebhooks",
        "settings",
        "Webhook",
        List,
        "List webhooks",
    ),
    def(
        Post,
        "/api/v1/settings/webhooks",
        "createWebhook",
        "settings",
        "Webhook",
        Created,
        "Create a webhook",
    )
    .body("WebhookInput"),
    def(
        Delete,
        "/api/v1/settings/webhooks/{webhookId}",
        "deleteWebhook",
        "settings",
        "Webhook",
        Deleted,
        "Delete a webhook",
    ),
    def(
        Get,
        "/api/v1/settings/api-keys",
        "listApiKeys",
        "settings",
        "ApiKeyInfo",
        List,
        "List API keys (fingerprints only)",
    )
    .auth(Auth::BearerMtls),
];

/// The component schemas: name, then each property as `name: kind`, where kind is
/// `string`, `integer`, `number`, `boolean`, `date-time`, `date`, `strings` (an array of
/// strings), `object` or `a|b|c` (an enum); a `!` suffix makes the property required
/// (`id` always is).
const SCHEMAS: &[(&str, &[&str])] = &[
    (
        "User",
        &[
            "id: string",
            "username: string",
            "role: user|admin",
            "created_at: date-time",
        ],
    ),
    ("UserInput", &["username: string!", "role: user|admin"]),
    (
        "Me",
        &[
            "user: string!",
            "role: string!",
            "authenticated_by: strings!",
            "account: object",
        ],
    ),
    (
        "Token",
        &[
            "access_token: string!",
            "token_type: string!",
            "expires_in: integer!",
        ],
    ),
    ("Status", &["status: string!", "version: string"]),
    (
        "Order",
        &[
            "id: string",
            "status: pending|paid|shipped|cancelled",
            "total: number",
            "currency: string",
            "created_at: date-time",
        ],
    ),
    (
        "OrderInput",
        &["customer_id: string!", "skus: strings!", "currency: string"],
    ),
    (
        "OrderItem",
        &[
            "id: string",
            "sku: string",
            "quantity: integer",
            "unit_price: number",
        ],
    ),
    (
        "Shipment",
        &[
            "id: string",
            "carrier: string",
            "tracking_number: string",
            "shipped_at: date-time",
        ],
    ),
    (
        "Invoice",
        &[
            "id: string",
            "status: draft|open|paid|void",
            "amount_due: number",
            "due_date: date",
        ],
    ),
    (
        "Document",
        &["id: string", "media_type: string", "url: string"],
    ),
    (
        "Project",
        &[
            "id: string",
            "name: string",
            "archived: boolean",
            "created_at: date-time",
        ],
    ),
    ("ProjectInput", &["name: string!", "archived: boolean"]),
    (
        "Member",
        &["id: string", "username: string", "role: member|owner"],
    ),
    ("MemberInput", &["role: member|owner!"]),
    (
        "Task",
        &["id: string", "title: string", "status: open|done"],
    ),
    (
        "Report",
        &["id: string", "name: string", "generated_at: date-time"],
    ),
    (
        "ReportInput",
        &["name: string!", "period_start: date!", "period_end: date"],
    ),
    (
        "Summary",
        &["id: string", "orders: integer", "revenue: number"],
    ),
    (
        "BillingAccount",
        &["id: string", "plan: string", "billing_contact: string"],
    ),
    (
        "PaymentMethod",
        &["id: string", "brand: string", "last4: string"],
    ),
    ("PaymentMethodInput", &["token: string!"]),
    (
        "Usage",
        &["id: string", "api_calls: integer", "storage_bytes: integer"],
    ),
    (
        "Charge",
        &["id: string", "amount: number", "created_at: date-time"],
    ),
    (
        "AuditEvent",
        &[
            "id: string",
            "actor: string",
            "action: string",
            "severity: info|warning|critical",
            "at: date-time",
        ],
    ),
    ("AuditExport", &["id: string", "status: string"]),
    ("AuditExportInput", &["since: date-time!"]),
    (
        "File",
        &[
            "id: string",
            "name: string",
            "size: integer",
            "uploaded_at: date-time",
        ],
    ),
    ("FileInput", &["name: string!", "size: integer!"]),
    (
        "FileVersion",
        &["id: string", "size: integer", "created_at: date-time"],
    ),
    ("Team", &["id: string", "name: string"]),
    ("TeamInput", &["name: string!"]),
    (
        "Settings",
        &["id: string", "timezone: string", "mfa_required: boolean"],
    ),
    (
        "SettingsInput",
        &["timezone: string", "mfa_required: boolean"],
    ),
    ("Webhook", &["id: string", "url: string", "events: strings"]),
    ("WebhookInput", &["url: string!", "events: strings!"]),
    (
        "ApiKeyInfo",
        &["id: string", "fingerprint: string", "created_at: date-time"],
    ),
    ("Generated", &["id: string", "n: integer"]),
    ("Error", &["error: string", "detail: string"]),
];

/// One operation of a running lab: a row of [`OPERATIONS`] or a generated one.
#[derive(Clone, Debug)]
pub struct Operation {
    pub verb: Verb,
    pub path: String,
    pub id: String,
    pub tag: &'static str,
    pub summary: String,
    pub schema: &'static str,
    pub shape: Shape,
    pub query: &'static [Query],
    pub body: Option<&'static str>,
    pub auth: Auth,
    pub builtin: bool,
}

impl From<&OpDef> for Operation {
    fn from(d: &OpDef) -> Self {
        Operation {
            verb: d.verb,
            path: d.path.to_string(),
            id: d.id.to_string(),
            tag: d.tag,
            summary: d.summary.to_string(),
            schema: d.schema,
            shape: d.shape,
            query: d.query,
            body: d.body,
            auth: d.auth,
            builtin: d.builtin,
        }
    }
}

/// A path template's segments: a literal, or a parameter (matching any one segment).
#[derive(Debug)]
enum Seg {
    Lit(String),
    Param(String),
}

#[derive(Debug)]
struct PathEntry {
    segs: Vec<Seg>,
    /// Indexes into [`Api::ops`].
    ops: Vec<usize>,
}

/// The operations of a running lab, with their router.
#[derive(Debug)]
pub struct Api {
    pub ops: Vec<Operation>,
    /// Per operation: answered to anyone without authentication (the `auth.missing` set and
    /// the `open_operations`; never the builtin routes, which have their own handlers).
    pub unenforced: Vec<bool>,
    paths: Vec<PathEntry>,
    /// Template without parameters → index into `paths`.
    literal: HashMap<String, usize>,
    /// Indexes into `paths` of templates with parameters.
    templated: Vec<usize>,
}

/// What the router found for a request.
pub enum Route<'a> {
    Op {
        index: usize,
        op: &'a Operation,
        /// The path parameters' values, by name.
        params: Vec<(String, String)>,
    },
    /// The path is known, not with this method; the methods it has.
    Method(Vec<Verb>),
    NotFound,
}

impl Api {
    /// The table plus `generated` operations `GET /api/v1/gen/{n}`, with the operations
    /// left unenforced by `auth.missing` (when on) and by `open` (operationIds; unknown,
    /// builtin or public ones are an error).
    pub fn build(flaws: &Flaws, generated: usize, open: &[String]) -> Result<Api> {
        let mut ops: Vec<Operation> = OPERATIONS.iter().map(Operation::from).collect();
        for n in 0..generated {
            ops.push(Operation {
                verb: Verb::Get,
                path: format!("/api/v1/gen/{n}"),
                id: format!("gen{n}"),
                tag: "generated",
                summary: format!("Generated operation {n}"),
                schema: "Generated",
                shape: Shape::Item,
                query: &[],
                body: None,
                auth: Auth::Bearer,
                builtin: false,
            });
        }
        let mut unenforced = vec![false; ops.len()];
        if flaws.auth_missing {
            for (i, op) in ops.iter().enumerate() {
                unenforced[i] |= AUTH_MISSING_OPERATIONS.contains(&op.id.as_str());
            }
        }
        for id in open {
            let Some(i) = ops.iter().position(|o| o.id == *id) else {
                bail!(
                    "the lab has no operation {id:?} to open (operationIds are in /openapi.json)"
                );
            };
            if ops[i].builtin {
                bail!(
                    "operation {id:?} has its own handler and cannot be opened; its flaws are switched with --flaw"
                );
            }
            if ops[i].auth == Auth::Public {
                bail!("operation {id:?} is public by design already");
            }
            unenforced[i] = true;
        }
        let mut paths: Vec<PathEntry> = Vec::new();
        let mut by_template: HashMap<&str, usize> = HashMap::new();
        for (i, op) in ops.iter().enumerate() {
            let p = *by_template.entry(op.path.as_str()).or_insert_with(|| {
                paths.push(PathEntry {
                    segs: segments(&op.path),
                    ops: Vec::new(),
                });
                paths.len() - 1
            });
            paths[p].ops.push(i);
        }
        let mut literal = HashMap::new();
        let mut templated = Vec::new();
        for (p, entry) in paths.iter().enumerate() {
            if entry.segs.iter().all(|s| matches!(s, Seg::Lit(_))) {
                literal.insert(ops[entry.ops[0]].path.clone(), p);
            } else {
                templated.push(p);
            }
        }
        Ok(Api {
            ops,
            unenforced,
            paths,
            literal,
            templated,
        })
    }

    /// The route for `path` and `method`: a literal template wins over one with
    /// parameters, and between templates the one whose first differing segment is literal.
    pub fn route(&self, method: &hyper::Method, path: &str) -> Route<'_> {
        let entry = match self.literal.get(path) {
            Some(p) => Some(&self.paths[*p]),
            None => {
                let parts: Vec<&str> = path.split('/').collect();
                self.templated
                    .iter()
                    .map(|p| &self.paths[*p])
                    .filter(|e| matches_segments(&e.segs, &parts))
                    .max_by(|a, b| specificity(&a.segs).cmp(&specificity(&b.segs)))
            }
        };
        let Some(entry) = entry else {
            return Route::NotFound;
        };
        let verb = Verb::of(method);
        match entry.ops.iter().find(|i| Some(self.ops[**i].verb) == verb) {
            Some(&index) => {
                let params = entry
                    .segs
                    .iter()
                    .zip(path.split('/'))
                    .filter_map(|(s, v)| match s {
                        Seg::Param(name) => Some((name.clone(), v.to_string())),
                        Seg::Lit(_) => None,
                    })
                    .collect();
                Route::Op {
                    index,
                    op: &self.ops[index],
                    params,
                }
            }
            None => Route::Method(entry.ops.iter().map(|i| self.ops[*i].verb).collect()),
        }
    }

    /// The operationIds answered to a request without any credential, by their declared
    /// method: see `Ready::unenforced_operations`. The public ones are not listed.
    pub fn unenforced_ids(&self, flaws: &Flaws, modes: &Modes) -> Vec<String> {
        // /api/v1/me's own check lets the anonymous through (`auth.missing`), and in mode
        // cert-only without a required certificate every enforced route does.
        let me_open = flaws.auth_missing;
        let all_open = modes.cert_only && flaws.has("mtls.not_required");
        self.ops
            .iter()
            .zip(&self.unenforced)
            .filter(|(op, open)| {
                let checked = !matches!(op.auth, Auth::Public | Auth::Basic);
                checked
                    && (**open
                        || all_open
                        || (flaws.method_bypass && op.verb != Verb::Get)
                        || (me_open && op.id == ME_OPERATION))
            })
            .map(|(op, _)| op.id.clone())
            .collect()
    }
}

fn segments(template: &str) -> Vec<Seg> {
    template
        .split('/')
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Seg::Param(name.to_string()),
                None => Seg::Lit(s.to_string()),
            },
        )
        .collect()
}

fn matches_segments(segs: &[Seg], parts: &[&str]) -> bool {
    segs.len() == parts.len()
        && segs.iter().zip(parts).all(|(s, p)| match s {
            Seg::Lit(l) => l == p,
            Seg::Param(_) => !p.is_empty(),
        })
}

/// Literal segments rank above parameters, from the left.
fn specificity(segs: &[Seg]) -> Vec<bool> {
    segs.iter().map(|s| matches!(s, Seg::Lit(_))).collect()
}

// ---------------------------------------------------------------------------------------
// Answers

const SAMPLE_TIME: &str = "2024-05-01T12:00:00Z";
const SAMPLE_DATE: &str = "2024-05-01";

fn props(schema: &str) -> &'static [&'static str] {
    SCHEMAS
        .iter()
        .find(|(n, _)| *n == schema)
        .map_or(&[], |(_, p)| p)
}

/// `"name: kind!"` → (name, kind, required).
fn prop(spec: &str) -> (&str, &str, bool) {
    let (name, kind) = spec.split_once(": ").unwrap_or((spec, "string"));
    match kind.strip_suffix('!') {
        Some(k) => (name, k, true),
        None => (name, kind, name == "id"),
    }
}

/// A resource of `schema` with id `id`, that conforms to the schema.
fn sample(schema: &str, id: &str) -> Value {
    let mut m = Map::new();
    for spec in props(schema) {
        let (name, kind, _) = prop(spec);
        let v = match kind {
            _ if name == "id" => json!(id),
            "string" => json!(format!("example-{name}")),
            "integer" => json!(3),
            "number" => json!(42.5),
            "boolean" => json!(false),
            "date-time" => json!(SAMPLE_TIME),
            "date" => json!(SAMPLE_DATE),
            "strings" => json!(["example"]),
            "object" => json!({}),
            e => json!(e.split('|').next().unwrap_or("")),
        };
        m.insert(name.to_string(), v);
    }
    Value::Object(m)
}

/// The body of a successful answer: the operation, who asked, and the resource.
pub fn answer(op: &Operation, params: &[(String, String)], user: &str, via: &[&str]) -> Value {
    let mut body = json!({
        "operation": op.id,
        "method": op.verb.as_str(),
        "path": op.path,
        "resource": op.tag,
        "user": user,
        "authenticated_by": via,
    });
    if !params.is_empty() {
        let p: Map<String, Value> = params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        body["params"] = Value::Object(p);
    }
    let id = params
        .last()
        .map_or_else(|| format!("{}-1001", op.tag), |(_, v)| v.clone());
    match op.shape {
        Shape::List => {
            body["items"] = json!([
                sample(op.schema, &format!("{}-1001", op.tag)),
                sample(op.schema, &format!("{}-1002", op.tag)),
            ]);
        }
        Shape::Item | Shape::Created | Shape::Raw => body["item"] = sample(op.schema, &id),
        Shape::Deleted => body["result"] = json!("deleted"),
        Shape::Accepted => body["result"] = json!("accepted"),
    }
    body
}

pub fn success_status(op: &Operation) -> hyper::StatusCode {
    match op.shape {
        Shape::Created => hyper::StatusCode::CREATED,
        Shape::Accepted => hyper::StatusCode::ACCEPTED,
        _ => hyper::StatusCode::OK,
    }
}

// ---------------------------------------------------------------------------------------
// Documents

/// What the documents say besides the table: where the lab is, and the `spec.*` flaws.
pub struct DocContext<'a> {
    pub https_url: &'a str,
    pub http_url: &'a str,
    pub flaws: &'a Flaws,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    OpenApi31,
    Swagger2,
}

impl Dialect {
    fn schema_ref(self, name: &str) -> Value {
        match self {
            Dialect::OpenApi31 => json!({ "$ref": format!("#/components/schemas/{name}") }),
            Dialect::Swagger2 => json!({ "$ref": format!("#/definitions/{name}") }),
        }
    }
    fn param_ref(self, name: &str) -> Value {
        match self {
            Dialect::OpenApi31 => json!({ "$ref": format!("#/components/parameters/{name}") }),
            Dialect::Swagger2 => json!({ "$ref": format!("#/parameters/{name}") }),
        }
    }
    fn response_ref(self, name: &str) -> Value {
        match self {
            Dialect::OpenApi31 => json!({ "$ref": format!("#/components/responses/{name}") }),
            Dialect::Swagger2 => json!({ "$ref": format!("#/responses/{name}") }),
        }
    }
}

fn schema_of(name: &str) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for spec in props(name) {
        let (p, kind, req) = prop(spec);
        let s = match kind {
            "string" | "integer" | "number" | "boolean" | "object" => json!({ "type": kind }),
            "date-time" | "date" => json!({ "type": "string", "format": kind }),
            "strings" => json!({ "type": "array", "items": { "type": "string" } }),
            e => json!({ "type": "string", "enum": e.split('|').collect::<Vec<_>>() }),
        };
        properties.insert(p.to_string(), s);
        if req {
            required.push(p);
        }
    }
    let mut s = json!({ "type": "object", "properties": properties });
    if !required.is_empty() {
        s["required"] = json!(required);
    }
    s
}

/// A parameter's schema keywords: nested under `schema` in 3.1, inline in 2.0.
fn parameter(d: Dialect, name: &str, at: &str, required: bool, desc: &str, schema: Value) -> Value {
    let mut p = json!({ "name": name, "in": at, "required": required });
    if !desc.is_empty() {
        p["description"] = json!(desc);
    }
    match (d, schema) {
        (Dialect::OpenApi31, s) => p["schema"] = s,
        (Dialect::Swagger2, Value::Object(s)) => {
            for (k, v) in s {
                p[k.as_str()] = v;
            }
        }
        (Dialect::Swagger2, _) => {}
    }
    p
}

fn query_parameter(d: Dialect, q: &Query) -> Value {
    match *q {
        Query::Limit => d.param_ref("Limit"),
        Query::Since => d.param_ref("Since"),
        Query::Enum {
            name,
            values,
            required,
        } => parameter(
            d,
            name,
            "query",
            required,
            "",
            json!({ "type": "string", "enum": values }),
        ),
        Query::Text { name, required } => {
            parameter(d, name, "query", required, "", json!({ "type": "string" }))
        }
        Query::Date { name, required } => parameter(
            d,
            name,
            "query",
            required,
            "",
            json!({ "type": "string", "format": "date" }),
        ),
        Query::Flag { name } => parameter(
            d,
            name,
            "query",
            false,
            "",
            json!({ "type": "boolean", "default": false }),
        ),
    }
}

fn shared_parameters(d: Dialect) -> Value {
    json!({
        "Limit": parameter(d, "limit", "query", false, "Page size.",
            json!({ "type": "integer", "minimum": 1, "maximum": 100, "default": 20 })),
        "Since": parameter(d, "since", "query", false, "Only what changed after this instant.",
            json!({ "type": "string", "format": "date-time" })),
    })
}

/// The operation's `security`, or `None` for no key at all.
fn security(d: Dialect, op: &Operation, flaws: &Flaws) -> Option<Value> {
    if op.id == SECURITY_UNDECLARED_OPERATION && flaws.has("spec.security_undeclared") {
        // Flaw: the decorator that adds the operation's security was forgotten on this
        // view, and the document has no root-level default to fall back on.
        return None;
    }
    Some(match op.auth {
        Auth::Bearer => json!([{ "bearerAuth": [] }]),
        Auth::BearerMtls if d == Dialect::OpenApi31 => json!([{ "bearerAuth": [], "mtls": [] }]),
        // Swagger 2.0 has no mutual-TLS scheme: only the bearer half can be said.
        Auth::BearerMtls => json!([{ "bearerAuth": [] }]),
        Auth::Basic => json!([{ "basicAuth": [] }]),
        // Flaw `spec.apikey_in_query`: the key travels in the URL, where access logs,
        // proxies and browser history keep it.
        Auth::ApiKey if flaws.has("spec.apikey_in_query") => json!([{ "queryKey": [] }]),
        Auth::ApiKey => json!([{ "headerKey": [] }]),
        Auth::Public => json!([]),
    })
}

fn response_schema(d: Dialect, op: &Operation) -> Value {
    let operation = json!({ "type": "string" });
    match op.shape {
        Shape::Raw => d.schema_ref(op.schema),
        Shape::List => json!({
            "type": "object",
            "required": ["operation", "items"],
            "properties": {
                "operation": operation,
                "items": { "type": "array", "items": d.schema_ref(op.schema) },
            },
        }),
        Shape::Item | Shape::Created => json!({
            "type": "object",
            "required": ["operation", "item"],
            "properties": { "operation": operation, "item": d.schema_ref(op.schema) },
        }),
        Shape::Deleted | Shape::Accepted => json!({
            "type": "object",
            "required": ["operation", "result"],
            "properties": { "operation": operation, "result": { "type": "string" } },
        }),
    }
}

fn operation_object(d: Dialect, op: &Operation, flaws: &Flaws) -> Value {
    let mut params: Vec<Value> = segments(&op.path)
        .iter()
        .filter_map(|s| match s {
            Seg::Param(name) => Some(parameter(
                d,
                name,
                "path",
                true,
                "",
                json!({ "type": "string" }),
            )),
            Seg::Lit(_) => None,
        })
        .collect();
    params.extend(op.query.iter().map(|q| query_parameter(d, q)));
    let mut o = json!({
        "operationId": op.id,
        "summary": op.summary,
        "tags": [op.tag],
    });
    if let Some(body) = op.body {
        match d {
            Dialect::OpenApi31 => {
                o["requestBody"] = json!({
                    "required": true,
                    "content": { "application/json": { "schema": d.schema_ref(body) } },
                });
            }
            Dialect::Swagger2 => params.push(json!({
                "name": "body", "in": "body", "required": true, "schema": d.schema_ref(body),
            })),
        }
    }
    if !params.is_empty() {
        o["parameters"] = Value::Array(params);
    }
    let status = success_status(op).as_u16().to_string();
    let ok = match d {
        Dialect::OpenApi31 => json!({
            "description": "Success",
            "content": { "application/json": { "schema": response_schema(d, op) } },
        }),
        Dialect::Swagger2 => json!({ "description": "Success", "schema": response_schema(d, op) }),
    };
    let mut responses = Map::new();
    responses.insert(status, ok);
    let sec = security(d, op, flaws);
    if op.auth != Auth::Public {
        responses.insert("401".into(), d.response_ref("Unauthorized"));
        responses.insert("403".into(), d.response_ref("Forbidden"));
    }
    o["responses"] = Value::Object(responses);
    if let Some(sec) = sec {
        o["security"] = sec;
    }
    o
}

fn paths(d: Dialect, api: &Api, flaws: &Flaws) -> Value {
    let mut paths = Map::new();
    for op in &api.ops {
        let item = paths
            .entry(op.path.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        item[op.verb.key()] = operation_object(d, op, flaws);
    }
    Value::Object(paths)
}

fn tags(api: &Api) -> Value {
    let mut seen: Vec<&str> = Vec::new();
    for op in &api.ops {
        if !seen.contains(&op.tag) {
            seen.push(op.tag);
        }
    }
    json!(
        seen.iter()
            .map(|t| json!({ "name": t }))
            .collect::<Vec<_>>()
    )
}

fn schemas(api: &Api) -> Value {
    let mut names: Vec<&str> = vec!["Error"];
    for op in &api.ops {
        for n in [Some(op.schema), op.body].into_iter().flatten() {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    let m: Map<String, Value> = names
        .iter()
        .map(|n| (n.to_string(), schema_of(n)))
        .collect();
    Value::Object(m)
}

const BEARER_DESCRIPTION: &str = "An ES256 JWT from the login, bound to the client \
    certificate it was issued over (RFC 8705 cnf.x5t#S256): present both.";

/// The OpenAPI 3.1.0 document.
pub fn openapi31(api: &Api, cx: &DocContext) -> Value {
    let d = Dialect::OpenApi31;
    let mut servers = vec![json!({ "url": cx.https_url, "description": "HTTPS" })];
    if cx.flaws.has("spec.cleartext_server") {
        // Flaw: the plain-HTTP listener is advertised beside the HTTPS one ("for legacy
        // clients"), so generated clients and tools may pick it.
        servers.push(json!({ "url": cx.http_url, "description": "plain HTTP (legacy clients)" }));
    }
    let mut schemes = json!({
        "bearerAuth": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                        "description": BEARER_DESCRIPTION },
        "mtls": { "type": "mutualTLS", "description": "A client certificate issued by the lab CA." },
        "basicAuth": { "type": "http", "scheme": "basic" },
        "headerKey": { "type": "apiKey", "in": "header", "name": APIKEY_HEADER },
    });
    if cx.flaws.has("spec.apikey_in_query") {
        schemes["queryKey"] = json!({ "type": "apiKey", "in": "query", "name": APIKEY_QUERY });
    }
    let error = json!({ "application/json": { "schema": d.schema_ref("Error") } });
    // No root-level `security`: every operation declares its own.
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "authprobe lab API",
            "version": "1.0.0",
            "description": "The built-in target of authprobe: deliberately misconfigurable.",
        },
        "servers": servers,
        "tags": tags(api),
        "paths": paths(d, api, cx.flaws),
        "components": {
            "securitySchemes": schemes,
            "parameters": shared_parameters(d),
            "schemas": schemas(api),
            "responses": {
                "Unauthorized": { "description": "No valid credential", "content": error },
                "Forbidden": { "description": "Credential refused", "content": error },
            },
        },
    })
}

/// The Swagger 2.0 document.
pub fn swagger2(api: &Api, cx: &DocContext) -> Value {
    let d = Dialect::Swagger2;
    let host = cx
        .https_url
        .trim_start_matches("https://")
        .trim_end_matches('/');
    let mut schemes = vec!["https"];
    if cx.flaws.has("spec.cleartext_server") {
        // Flaw `spec.cleartext_server`. Swagger 2.0 has one host for every scheme, so it
        // cannot give the plain listener's own port: the declaration is the flaw.
        schemes.push("http");
    }
    let mut defs = json!({
        // Swagger 2.0 has no bearer scheme: a bearer token is an apiKey in the
        // Authorization header, whose value the client prefixes with "Bearer ".
        "bearerAuth": { "type": "apiKey", "in": "header", "name": "Authorization",
                        "description": BEARER_DESCRIPTION },
        "basicAuth": { "type": "basic" },
        "headerKey": { "type": "apiKey", "in": "header", "name": APIKEY_HEADER },
    });
    if cx.flaws.has("spec.apikey_in_query") {
        defs["queryKey"] = json!({ "type": "apiKey", "in": "query", "name": APIKEY_QUERY });
    }
    let error = d.schema_ref("Error");
    json!({
        "swagger": "2.0",
        "info": {
            "title": "authprobe lab API",
            "version": "1.0.0",
            "description": "The built-in target of authprobe: deliberately misconfigurable.",
        },
        "host": host,
        "basePath": "/",
        "schemes": schemes,
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "tags": tags(api),
        "paths": paths(d, api, cx.flaws),
        "securityDefinitions": defs,
        "parameters": shared_parameters(d),
        "definitions": schemas(api),
        "responses": {
            "Unauthorized": { "description": "No valid credential", "schema": error },
            "Forbidden": { "description": "Credential refused", "schema": error },
        },
    })
}
