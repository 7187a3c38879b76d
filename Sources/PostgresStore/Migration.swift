import AppCore
import FoundationEssentials

/// One schema change, applied once and recorded in `clpr_schema_migrations` (same versions and names as the
/// SQLite store's where they mean the same).
///
/// Every step must work on an empty database **and** on the original system's database with its rows: tables
/// are created only `IF NOT EXISTS` with the seed's column names and types, columns are only added, constraints
/// are added only when an equivalent one is missing, and no row is deleted. Values clpr rewrites keep their
/// original text in a `legacy_*` column.
struct Migration: Sendable {
    enum Step: Sendable {
        /// Parameter-free DDL/DML (one or more statements).
        case sql(String)
        /// Data work that needs the domain's rules (for example, phone parsing).
        case code(@Sendable (PostgresConnection) throws -> Void)
    }

    var version: Int
    var name: String
    var steps: [Step]

    /// Every migration in order. Append only: never edit or renumber one that has shipped.
    static let all: [Migration] = [
        seedTables, clprTables, legacyWebFormPhones, outbox, telegramIdentity, serverKeys, documents,
        outboxDepthIndexes,
    ]

    /// A fixed key for `pg_advisory_xact_lock`: concurrent migrators (two servers starting) take turns.
    private static let lockKey: Int64 = 0x636c_7072_6d69_6772  // "clprmigr"

    /// Applies what is not yet recorded, each migration in its own transaction with its record.
    static func apply(_ migrations: [Migration], on connection: PostgresConnection) throws {
        try connection.execute(
            script: """
                CREATE TABLE IF NOT EXISTS clpr_schema_migrations (
                    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """,
            operation: "create migrations table")
        for migration in migrations {
            try connection.withTransaction("migrate \(migration.name)") { connection in
                try connection.execute(
                    "SELECT pg_advisory_xact_lock($1::bigint)", [.integer(lockKey)], operation: "migration lock")
                let applied = try connection.queryFirst(
                    "SELECT 1 FROM clpr_schema_migrations WHERE version = $1", [.int(migration.version)],
                    operation: "migrate"
                ) { _ in true }
                guard applied == nil else { return }
                for step in migration.steps {
                    switch step {
                    case .sql(let sql): try connection.execute(script: sql, operation: "migrate \(migration.name)")
                    case .code(let run): try run(connection)
                    }
                }
                try connection.execute(
                    "INSERT INTO clpr_schema_migrations (version, name) VALUES ($1, $2)",
                    [.int(migration.version), .text(migration.name)], operation: "migrate")
            }
        }
    }
}

// MARK: - The migrations

extension Migration {
    /// The seed's six tables, with its column names and types, when absent. On the original database they all
    /// exist and nothing happens.
    static let seedTables = Migration(
        version: 1, name: "seed_tables",
        steps: [
            .sql(
                """
                CREATE TABLE IF NOT EXISTS clpr_users (
                    id serial PRIMARY KEY,
                    universal_id uuid DEFAULT gen_random_uuid(),
                    unified_id varchar,
                    phone varchar,
                    created_at timestamptz DEFAULT now(),
                    updated_at timestamptz DEFAULT now()
                );
                CREATE TABLE IF NOT EXISTS clpr_user_accounts (
                    id serial PRIMARY KEY,
                    user_id integer REFERENCES clpr_users (id),
                    channel text,
                    channel_user_id text,
                    UNIQUE (channel, channel_user_id)
                );
                CREATE TABLE IF NOT EXISTS clpr_claims (
                    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    session_token varchar,
                    unified_id varchar,
                    telegram_id bigint,
                    channel text,
                    user_id integer,
                    type_code text,
                    status_code text,
                    policy_number text,
                    payload jsonb,
                    is_confirmed boolean DEFAULT false,
                    created_at timestamptz DEFAULT now(),
                    updated_at timestamptz DEFAULT now(),
                    expires_at timestamptz
                );
                CREATE TABLE IF NOT EXISTS clpr_users_tg (
                    telegram_id bigint PRIMARY KEY,
                    unified_id varchar,
                    phone_number varchar,
                    first_name_tg text,
                    last_name_tg text,
                    username text,
                    language_code text,
                    is_premium boolean,
                    first_name text,
                    last_name text,
                    middle_name text,
                    birth_date date
                );
                CREATE TABLE IF NOT EXISTS clpr_claim_documents (
                    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    claim_id varchar,
                    field_name text,
                    file_id text,
                    uploaded_at timestamp,
                    file_name text,
                    original_file_name text
                );
                CREATE TABLE IF NOT EXISTS clpr_documents (
                    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    source text,
                    content text,
                    metadata jsonb,
                    created_at timestamptz DEFAULT now()
                );
                """)
        ])

    /// clpr's columns, constraints, the draft index and tables.
    ///
    /// On the original database: users without a `unified_id` (NULL or blank) get a fresh `usr_…` one, since
    /// every person needs the key claims are found by; unique `(channel, channel_user_id)`, unique
    /// `clpr_users.unified_id` and unique non-empty `clpr_claims.session_token` are added unless an equivalent
    /// unique index exists. If the legacy rows hold real duplicates (two users sharing a `unified_id`), the
    /// migration fails and rolls back with the offending index named in the error: merging people is a decision
    /// for an operator, not for a migration.
    static let clprTables = Migration(
        version: 2, name: "clpr_sessions_codes_plans",
        steps: [
            .sql(
                """
                ALTER TABLE clpr_claims ADD COLUMN IF NOT EXISTS revision integer NOT NULL DEFAULT 0;
                ALTER TABLE clpr_claims ADD COLUMN IF NOT EXISTS submission_id text;
                ALTER TABLE clpr_claims ADD COLUMN IF NOT EXISTS submitted_revision integer;
                ALTER TABLE clpr_claims ADD COLUMN IF NOT EXISTS submitted_at timestamptz;
                ALTER TABLE clpr_users ADD COLUMN IF NOT EXISTS legacy_phone varchar;
                ALTER TABLE clpr_user_accounts ADD COLUMN IF NOT EXISTS legacy_channel_user_id text;

                UPDATE clpr_users SET unified_id = 'usr_' || gen_random_uuid()::text
                WHERE unified_id IS NULL OR btrim(unified_id) = '';

                CREATE FUNCTION pg_temp.clpr_has_unique_index(target regclass, key_columns name[]) RETURNS boolean
                LANGUAGE sql STABLE AS $$
                    SELECT EXISTS (
                        SELECT 1 FROM pg_index i
                        WHERE i.indrelid = target AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
                            AND ARRAY(
                                SELECT a.attname
                                FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, position)
                                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                                ORDER BY k.position) = key_columns)
                $$;
                DO $$
                BEGIN
                    IF NOT pg_temp.clpr_has_unique_index(
                        'clpr_user_accounts', ARRAY['channel', 'channel_user_id']::name[]) THEN
                        CREATE UNIQUE INDEX clpr_user_accounts_channel_user_key
                            ON clpr_user_accounts (channel, channel_user_id);
                    END IF;
                    IF NOT pg_temp.clpr_has_unique_index('clpr_users', ARRAY['unified_id']::name[]) THEN
                        CREATE UNIQUE INDEX clpr_users_unified_id_key ON clpr_users (unified_id);
                    END IF;
                    IF NOT pg_temp.clpr_has_unique_index('clpr_claims', ARRAY['session_token']::name[]) THEN
                        -- Partial: legacy rows may share an empty token; clpr never writes one.
                        CREATE UNIQUE INDEX clpr_claims_session_token_key ON clpr_claims (session_token)
                            WHERE session_token <> '';
                    END IF;
                END
                $$;
                DROP FUNCTION pg_temp.clpr_has_unique_index(regclass, name[]);

                -- The seed's step-4 lookup (drafts of a unified_id, newest first), every channel.
                CREATE INDEX IF NOT EXISTS clpr_claims_unified_status_updated
                    ON clpr_claims (unified_id, status_code, updated_at DESC);

                CREATE TABLE IF NOT EXISTS clpr_sessions (
                    token_hash text PRIMARY KEY,
                    user_id integer NOT NULL,
                    unified_id varchar NOT NULL,
                    channel text NOT NULL,
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL
                );
                CREATE TABLE IF NOT EXISTS clpr_login_codes (
                    phone text PRIMARY KEY,
                    code_hash text NOT NULL,
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    failed_attempts integer NOT NULL DEFAULT 0
                );
                CREATE TABLE IF NOT EXISTS clpr_claim_plans (
                    session_token text NOT NULL,
                    submission_id text NOT NULL,
                    outcome text NOT NULL CHECK (outcome IN ('ready', 'failed')),
                    plan jsonb,
                    error_code text,
                    error_message text,
                    received_at timestamptz NOT NULL,
                    PRIMARY KEY (session_token, submission_id)
                );
                CREATE TABLE IF NOT EXISTS clpr_plan_dead_letters (
                    id bigserial PRIMARY KEY,
                    channel text,
                    payload bytea,
                    reason text,
                    received_at timestamptz
                );
                """)
        ])

    /// Legacy web-form phones to E.164.
    ///
    /// The original system stored phones as typed (`8 916 123-45-67`, `+7 (916) 1234567`), and clpr finds a
    /// web-form account by the E.164 number (`+79161234567`). Without this step a returning person would get a
    /// second user and lose sight of their history. So, with the domain's own parser (``PhoneNumber``):
    /// - a `web_form` account whose `channel_user_id` parses is rewritten to E.164, the typed text kept in
    ///   `legacy_channel_user_id`, **unless** that would collide: when an account already holds the E.164 value,
    ///   or when several legacy accounts map to the same number, they are all left as typed (which account is
    ///   the person's is an operator's call; the unique index guarantees nothing is merged by accident);
    /// - `clpr_users.phone` that parses is rewritten to E.164, the typed text kept in `legacy_phone`
    ///   (no uniqueness involved);
    /// - text that does not parse as a Russian number is left untouched. No row is deleted.
    ///
    /// Claims' `payload.phone` is not touched here: resolving legacy drafts to people is the backfill's job.
    static let legacyWebFormPhones = Migration(
        version: 3, name: "normalize_legacy_web_form_phones",
        steps: [
            .code { connection in
                let e164Pattern = PostgresValue.text("^\\+7[0-9]{10}$")
                let accounts = try connection.query(
                    """
                    SELECT id, channel_user_id FROM clpr_user_accounts
                    WHERE channel = 'web_form' AND channel_user_id IS NOT NULL AND channel_user_id !~ $1
                    """,
                    [e164Pattern], operation: "read legacy web_form accounts"
                ) { row in (id: row.int64(0), typed: row.text(1) ?? "") }
                var byNumber: [String: [Int64]] = [:]
                for account in accounts {
                    guard let id = account.id, let phone = try? PhoneNumber(parsing: account.typed) else { continue }
                    byNumber[phone.e164, default: []].append(id)
                }
                let unambiguous = byNumber.compactMap { number, ids in ids.count == 1 ? (ids[0], number) : nil }
                for batch in unambiguous.chunked(1000) {
                    try connection.execute(
                        """
                        UPDATE clpr_user_accounts AS a
                        SET channel_user_id = v.phone, legacy_channel_user_id = a.channel_user_id
                        FROM unnest($1::bigint[], $2::text[]) AS v(id, phone)
                        WHERE a.id = v.id AND NOT EXISTS (
                            SELECT 1 FROM clpr_user_accounts o WHERE o.channel = 'web_form' AND o.channel_user_id = v.phone)
                        """,
                        [.arrayLiteral(batch.map { String($0.0) }), .arrayLiteral(batch.map { $0.1 })],
                        operation: "normalize legacy web_form accounts")
                }

                let users = try connection.query(
                    "SELECT id, phone FROM clpr_users WHERE phone IS NOT NULL AND phone !~ $1", [e164Pattern],
                    operation: "read legacy user phones"
                ) { row in (id: row.int64(0), typed: row.text(1) ?? "") }
                let parsed = users.compactMap { user -> (Int64, String)? in
                    guard let id = user.id, let phone = try? PhoneNumber(parsing: user.typed) else { return nil }
                    return (id, phone.e164)
                }
                for batch in parsed.chunked(1000) {
                    try connection.execute(
                        """
                        UPDATE clpr_users AS u SET phone = v.phone, legacy_phone = u.phone
                        FROM unnest($1::bigint[], $2::text[]) AS v(id, phone) WHERE u.id = v.id
                        """,
                        [.arrayLiteral(batch.map { String($0.0) }), .arrayLiteral(batch.map { $0.1 })],
                        operation: "normalize legacy user phones")
                }
            }
        ])
}

extension Migration {
    /// The outbox (outgoing calls written with their state change; leased with `FOR UPDATE SKIP LOCKED`), the
    /// callback signatures seen (replay guard) and the CRM's contact id on users. Times are Unix milliseconds.
    static let outbox = Migration(
        version: 4, name: "outbox_callbacks_crm",
        steps: [
            .sql(
                """
                CREATE TABLE IF NOT EXISTS clpr_outbox (
                    id bigserial PRIMARY KEY,
                    kind text NOT NULL,
                    dedupe_key text NOT NULL,
                    body text NOT NULL,
                    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
                    attempts integer NOT NULL DEFAULT 0,
                    created_at_ms bigint NOT NULL,
                    next_attempt_ms bigint NOT NULL,
                    lease_owner text,
                    lease_until_ms bigint,
                    last_error text,
                    finished_at_ms bigint,
                    UNIQUE (kind, dedupe_key)
                );
                CREATE INDEX IF NOT EXISTS clpr_outbox_due ON clpr_outbox (kind, next_attempt_ms)
                    WHERE state = 'pending';
                CREATE TABLE IF NOT EXISTS clpr_callback_signatures (
                    signature text PRIMARY KEY,
                    received_at_ms bigint NOT NULL
                );
                CREATE INDEX IF NOT EXISTS clpr_callback_signatures_received
                    ON clpr_callback_signatures (received_at_ms);
                ALTER TABLE clpr_users ADD COLUMN IF NOT EXISTS crm_contact_id text;
                """)
        ])

    /// Telegram identity (issue 6): merged users keep their row and name the user they became
    /// (`merged_into`), and the lookups "sessions of a person" (sign out everywhere), "accounts of a user" and
    /// "Telegram rows of a person" (merge) get indexes. Version 4 is the outbox's; the runner applies every
    /// version not yet recorded, in list order, so the gap is harmless.
    static let telegramIdentity = Migration(
        version: 5, name: "telegram_identity",
        steps: [
            .sql(
                """
                ALTER TABLE clpr_users ADD COLUMN IF NOT EXISTS merged_into varchar;
                CREATE INDEX IF NOT EXISTS clpr_sessions_unified_id ON clpr_sessions (unified_id);
                CREATE INDEX IF NOT EXISTS clpr_user_accounts_user_id ON clpr_user_accounts (user_id);
                CREATE INDEX IF NOT EXISTS clpr_users_tg_unified_id ON clpr_users_tg (unified_id);
                CREATE TABLE IF NOT EXISTS clpr_rate_limits (
                    bucket text PRIMARY KEY,
                    window_start timestamptz NOT NULL,
                    count integer NOT NULL
                );
                """)
        ])

    /// Keys every instance on the database must share (the login-code hash key): a per-instance key made codes
    /// sent by one instance fail on another behind a load balancer.
    static let serverKeys = Migration(
        version: 6, name: "server_keys",
        steps: [
            .sql(
                """
                CREATE TABLE IF NOT EXISTS clpr_server_keys (
                    name text PRIMARY KEY,
                    key text NOT NULL
                );
                """)
        ])

    /// Claim documents (issue 7): `clpr_documents` rows are content blobs found by SHA-256 (one per distinct
    /// content; the original system's rows keep `sha256` NULL and are left alone), `clpr_claim_documents` rows the
    /// uploads per claim and slot (`file_id` = `clpr_documents.id` as text).
    static let documents = Migration(
        version: 7, name: "claim_documents",
        steps: [
            .sql(
                """
                ALTER TABLE clpr_documents ADD COLUMN IF NOT EXISTS sha256 text;
                ALTER TABLE clpr_documents ADD COLUMN IF NOT EXISTS size_bytes bigint;
                ALTER TABLE clpr_documents ADD COLUMN IF NOT EXISTS content_type text;
                CREATE UNIQUE INDEX IF NOT EXISTS clpr_documents_sha256 ON clpr_documents (sha256)
                    WHERE sha256 IS NOT NULL;
                CREATE INDEX IF NOT EXISTS clpr_claim_documents_claim ON clpr_claim_documents (claim_id, uploaded_at);
                CREATE INDEX IF NOT EXISTS clpr_claim_documents_file ON clpr_claim_documents (file_id);
                """)
        ])

    /// `/metrics` reads the outbox's depth at a scrape: pending and dead items, and the oldest pending one's age,
    /// each from a partial index, so a scrape never scans the sent items that pile up.
    static let outboxDepthIndexes = Migration(
        version: 8, name: "outbox_depth_indexes",
        steps: [
            .sql(
                """
                CREATE INDEX IF NOT EXISTS clpr_outbox_pending_created ON clpr_outbox (created_at_ms)
                    WHERE state = 'pending';
                CREATE INDEX IF NOT EXISTS clpr_outbox_dead_created ON clpr_outbox (created_at_ms)
                    WHERE state = 'dead';
                """)
        ])
}

extension PostgresValue {
    /// A one-dimensional array literal (`{"a","b"}`) of `elements`, quoted and escaped, for `$n::text[]` and
    /// `$n::bigint[]` parameters.
    static func arrayLiteral(_ elements: [String]) -> PostgresValue {
        let quoted = elements.map { element in
            "\"" + element.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
        }
        return .text("{" + quoted.joined(separator: ",") + "}")
    }
}

extension Array {
    fileprivate func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
