/// One schema change, applied once and recorded in `clpr_schema_migrations`.
struct Migration: Sendable {
    var version: Int
    var name: String
    /// Parameter-free DDL, run in the same transaction as the version record.
    var sql: String
}

extension Migration {
    /// Every migration in order. Append only: never edit or renumber one that has shipped.
    static let all: [Migration] = [
        seedTables, clprTables, outbox, telegramIdentity, serverKeys, documents, outboxDepthIndexes,
    ]

    /// The seed's six `clpr_*` tables with their column names (SQLite types), so data moves to and from the
    /// PostgreSQL system of record unchanged.
    static let seedTables = Migration(
        version: 1, name: "seed_tables",
        sql: """
            CREATE TABLE IF NOT EXISTS clpr_users (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                universal_id TEXT,
                unified_id TEXT NOT NULL UNIQUE,
                phone TEXT,
                created_at TEXT,
                updated_at TEXT
            );
            CREATE TABLE IF NOT EXISTS clpr_user_accounts (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                user_id INTEGER NOT NULL REFERENCES clpr_users(id),
                channel TEXT NOT NULL,
                channel_user_id TEXT NOT NULL,
                UNIQUE (channel, channel_user_id)
            );
            CREATE TABLE IF NOT EXISTS clpr_claims (
                id TEXT PRIMARY KEY,
                session_token TEXT UNIQUE,
                unified_id TEXT,
                telegram_id INTEGER,
                channel TEXT,
                user_id INTEGER,
                type_code TEXT,
                status_code TEXT,
                policy_number TEXT,
                payload TEXT,
                is_confirmed INTEGER,
                created_at TEXT,
                updated_at TEXT,
                expires_at TEXT
            );
            CREATE TABLE IF NOT EXISTS clpr_users_tg (
                telegram_id INTEGER PRIMARY KEY,
                unified_id TEXT,
                phone_number TEXT,
                first_name_tg TEXT,
                last_name_tg TEXT,
                username TEXT,
                language_code TEXT,
                is_premium INTEGER,
                first_name TEXT,
                last_name TEXT,
                middle_name TEXT,
                birth_date TEXT
            );
            CREATE TABLE IF NOT EXISTS clpr_claim_documents (
                id TEXT PRIMARY KEY,
                claim_id TEXT,
                field_name TEXT,
                file_id TEXT,
                uploaded_at TEXT,
                file_name TEXT,
                original_file_name TEXT
            );
            CREATE TABLE IF NOT EXISTS clpr_documents (
                id TEXT PRIMARY KEY,
                source TEXT,
                content TEXT,
                metadata TEXT,
                created_at TEXT
            );
            """)

    /// clpr's additions: submission bookkeeping on claims, the draft-lookup index, sessions, login codes,
    /// received plans and dead letters.
    static let clprTables = Migration(
        version: 2, name: "clpr_sessions_codes_plans",
        sql: """
            ALTER TABLE clpr_claims ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE clpr_claims ADD COLUMN submission_id TEXT;
            ALTER TABLE clpr_claims ADD COLUMN submitted_revision INTEGER;
            ALTER TABLE clpr_claims ADD COLUMN submitted_at TEXT;
            CREATE INDEX clpr_claims_unified_status_updated
                ON clpr_claims (unified_id, status_code, updated_at DESC);
            CREATE TABLE clpr_sessions (
                token_hash TEXT PRIMARY KEY,
                user_id INTEGER NOT NULL,
                unified_id TEXT NOT NULL,
                channel TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL
            );
            CREATE TABLE clpr_login_codes (
                phone TEXT PRIMARY KEY,
                code_hash TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                failed_attempts INTEGER NOT NULL DEFAULT 0
            );
            CREATE TABLE clpr_claim_plans (
                session_token TEXT NOT NULL,
                submission_id TEXT NOT NULL,
                outcome TEXT NOT NULL CHECK (outcome IN ('ready', 'failed')),
                plan TEXT,
                error_code TEXT,
                error_message TEXT,
                received_at TEXT NOT NULL,
                PRIMARY KEY (session_token, submission_id)
            );
            CREATE TABLE clpr_plan_dead_letters (
                id INTEGER PRIMARY KEY,
                channel TEXT,
                payload BLOB,
                reason TEXT,
                received_at TEXT
            );
            """)

    /// The outbox (outgoing calls written with their state change), callback signatures seen (replay guard) and
    /// the CRM's contact id on users. Version 4 as on PostgreSQL (3 is PostgreSQL's legacy phone fix, which
    /// SQLite never needed). Times are Unix milliseconds: compared and ordered as integers.
    static let outbox = Migration(
        version: 4, name: "outbox_callbacks_crm",
        sql: """
            CREATE TABLE clpr_outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                kind TEXT NOT NULL,
                dedupe_key TEXT NOT NULL,
                body TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
                attempts INTEGER NOT NULL DEFAULT 0,
                created_at_ms INTEGER NOT NULL,
                next_attempt_ms INTEGER NOT NULL,
                lease_owner TEXT,
                lease_until_ms INTEGER,
                last_error TEXT,
                finished_at_ms INTEGER,
                UNIQUE (kind, dedupe_key)
            );
            CREATE INDEX clpr_outbox_due ON clpr_outbox (kind, next_attempt_ms) WHERE state = 'pending';
            CREATE TABLE clpr_callback_signatures (
                signature TEXT PRIMARY KEY,
                received_at_ms INTEGER NOT NULL
            );
            CREATE INDEX clpr_callback_signatures_received ON clpr_callback_signatures (received_at_ms);
            ALTER TABLE clpr_users ADD COLUMN crm_contact_id TEXT;
            """)

    /// Telegram identity (issue 6): merged users keep their row and name the user they became, and the lookups
    /// "sessions of a person" (sign out everywhere) and "accounts of a user" (merge) get indexes; `clpr_rate_limits`
    /// counts login-code requests per phone and per client address across instances.
    ///
    /// Version 5: 3 is the PostgreSQL store's legacy phone step and 4 the outbox; the runner applies every
    /// version not yet recorded, in this list's order, so numbers may have gaps.
    static let telegramIdentity = Migration(
        version: 5, name: "telegram_identity",
        sql: """
            ALTER TABLE clpr_users ADD COLUMN merged_into TEXT;
            CREATE INDEX clpr_sessions_unified_id ON clpr_sessions (unified_id);
            CREATE INDEX clpr_user_accounts_user_id ON clpr_user_accounts (user_id);
            CREATE INDEX clpr_users_tg_unified_id ON clpr_users_tg (unified_id);
            CREATE TABLE clpr_rate_limits (
                bucket TEXT PRIMARY KEY,
                window_start TEXT NOT NULL,
                count INTEGER NOT NULL
            );
            """)

    /// Keys every instance on the database must share (the login-code hash key): a per-instance key made codes
    /// sent by one instance fail on another behind a load balancer.
    static let serverKeys = Migration(
        version: 6, name: "server_keys",
        sql: """
            CREATE TABLE clpr_server_keys (
                name TEXT PRIMARY KEY,
                key TEXT NOT NULL
            );
            """)

    /// Claim documents (issue 7): `clpr_documents` rows are content blobs found by SHA-256 (one per distinct
    /// content, shared by every document with those bytes), `clpr_claim_documents` rows the uploads per claim and
    /// slot (`file_id` = `clpr_documents.id`).
    static let documents = Migration(
        version: 7, name: "claim_documents",
        sql: """
            ALTER TABLE clpr_documents ADD COLUMN sha256 TEXT;
            ALTER TABLE clpr_documents ADD COLUMN size_bytes INTEGER;
            ALTER TABLE clpr_documents ADD COLUMN content_type TEXT;
            CREATE UNIQUE INDEX clpr_documents_sha256 ON clpr_documents (sha256) WHERE sha256 IS NOT NULL;
            CREATE INDEX clpr_claim_documents_claim ON clpr_claim_documents (claim_id, uploaded_at);
            CREATE INDEX clpr_claim_documents_file ON clpr_claim_documents (file_id);
            """)

    /// `/metrics` reads the outbox's depth at a scrape from partial indexes (pending, dead), never scanning the
    /// sent items. Version 8 as on PostgreSQL.
    static let outboxDepthIndexes = Migration(
        version: 8, name: "outbox_depth_indexes",
        sql: """
            CREATE INDEX clpr_outbox_pending_created ON clpr_outbox (created_at_ms) WHERE state = 'pending';
            CREATE INDEX clpr_outbox_dead_created ON clpr_outbox (created_at_ms) WHERE state = 'dead';
            """)
}
