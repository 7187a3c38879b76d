import AppCore
import FoundationEssentials
import Logging

/// `clpr backfill-unified-id`: gives the original system's claims that lack a `unified_id` (its web-form drafts)
/// their owner, found by the phone in their payload.
///
/// For each web-form claim (channel `web_form` or NULL) with a NULL or blank `unified_id`, in pages of
/// ``batchSize`` by `id` (keyset pagination):
/// - `payload.phone` is parsed with ``PhoneNumber/init(parsing:)``; a claim without a phone, or with one that
///   does not parse, is skipped and counted by reason (nothing is guessed);
/// - the owner is the user of the `web_form` account for the E.164 number, created (user + account) when absent
///   through the same race-free ``IdentityStore/findOrCreateUser(channel:channelUserID:phone:)`` a login uses, so
///   the person's next login finds these drafts;
/// - one transaction per page sets `unified_id`, `user_id` and `payload.phone` (E.164; the typed text is kept in
///   `payload.legacy_phone`), only where `unified_id` is still missing. `updated_at` is not touched.
///
/// Idempotent: a second run finds only the skipped claims and changes nothing. Claims of other channels
/// (Telegram) are counted and left alone: their owner is the Telegram account, not a phone.
/// With `dryRun` nothing is written and no user is created; the report says what a real run would do.
public enum Backfill {
    /// What a run did (or, with `dryRun`, would do).
    public struct Report: Sendable, Equatable, CustomStringConvertible {
        public var dryRun: Bool
        /// Claims with a missing `unified_id` that were looked at.
        public var scanned = 0
        /// Claims given an owner (dry run: that would be).
        public var fixed = 0
        /// Users (with their `web_form` account) created for phones nobody owned yet (dry run: that would be).
        public var usersCreated = 0
        /// Skipped: no `payload.phone` (or an empty one).
        public var skippedNoPhone = 0
        /// Skipped: `payload.phone` is not a Russian mobile number.
        public var skippedUnparseablePhone = 0
        /// Skipped: not a web-form claim.
        public var skippedOtherChannel = 0
        /// Up to ``sampleLimit`` planned changes, `claim_id: "typed" -> +7… (user)`, for the dry run's output.
        public var samples: [String] = []

        static let sampleLimit = 20

        public init(dryRun: Bool) { self.dryRun = dryRun }

        public var skipped: Int { skippedNoPhone + skippedUnparseablePhone + skippedOtherChannel }

        /// The lines the command prints.
        public var description: String {
            let verb = dryRun ? "would fix" : "fixed"
            var lines = dryRun ? ["dry run: nothing was changed"] : []
            lines += samples.map { "  \($0)" }
            if dryRun, fixed > samples.count { lines.append("  … and \(fixed - samples.count) more") }
            lines += [
                "scanned: \(scanned)",
                "\(verb): \(fixed)",
                "\(dryRun ? "users to create" : "users created"): \(usersCreated)",
                "skipped: \(skipped) (no phone: \(skippedNoPhone), unparseable phone: \(skippedUnparseablePhone), "
                    + "not web_form: \(skippedOtherChannel))",
            ]
            return lines.joined(separator: "\n")
        }
    }

    /// Claims per page (and per transaction).
    public static let batchSize = 500

    /// Runs the backfill on an open store.
    /// - Parameters:
    ///   - claims: where the legacy claims are.
    ///   - identity: where users are found and created (the same store).
    ///   - dryRun: change nothing; report what would be done.
    ///   - batchSize: claims per page and per transaction.
    /// - Throws: ``StoreError`` from the store; pages committed before the failure stay committed (a rerun
    ///   continues with what is left).
    public static func run(
        claims: any LegacyClaimStore, identity: any IdentityStore, dryRun: Bool, batchSize: Int = batchSize,
        logger: Logger? = nil
    ) async throws -> Report {
        var report = Report(dryRun: dryRun)
        /// E.164 → owner, across pages (nil value in a dry run: no user yet).
        var owners: [String: User?] = [:]
        var after: String?
        while true {
            let page = try await claims.claimsMissingUnifiedID(after: after, limit: max(1, batchSize))
            guard let last = page.last else { break }
            after = last.id
            report.scanned += page.count
            var assignments: [UnifiedIDAssignment] = []
            for claim in page {
                if let channel = claim.channel, channel != Channel.webForm.rawValue {
                    report.skippedOtherChannel += 1
                    continue
                }
                guard let typed = claim.phone, !typed.trimmingWhitespace().isEmpty else {
                    report.skippedNoPhone += 1
                    continue
                }
                guard let phone = try? PhoneNumber(parsing: typed) else {
                    report.skippedUnparseablePhone += 1
                    continue
                }
                let owner: User?
                if let known = owners[phone.e164] {
                    owner = known
                } else {
                    let existing = try await claims.existingUser(channel: .webForm, channelUserID: phone.e164)
                    if existing == nil { report.usersCreated += 1 }
                    if existing == nil, !dryRun {
                        owner = try await identity.findOrCreateUser(
                            channel: .webForm, channelUserID: phone.e164, phone: phone.e164)
                    } else {
                        owner = existing
                    }
                    owners[phone.e164] = owner
                }
                if report.samples.count < Report.sampleLimit {
                    report.samples.append(
                        "\(claim.id): \"\(typed)\" -> \(phone.e164) (\(owner?.unifiedID ?? "new user"))")
                }
                if dryRun {
                    report.fixed += 1
                } else if let owner {
                    assignments.append(UnifiedIDAssignment(claimID: claim.id, user: owner, phone: phone.e164))
                }
            }
            if !dryRun {
                report.fixed += try await claims.assignUnifiedIDs(assignments)
            }
            logger?.info(
                "backfill page",
                metadata: ["scanned": "\(report.scanned)", "fixed": "\(report.fixed)", "dry_run": "\(dryRun)"])
        }
        if !dryRun { report.samples = [] }
        return report
    }

    /// Opens (and migrates) the configured database, runs the backfill and closes it (`clpr backfill-unified-id`).
    public static func run(configuration: Application.Configuration, dryRun: Bool, logger: Logger) async throws
        -> Report
    {
        let database = try Application.openDatabase(configuration, logger: logger)
        defer { database.close() }
        return try await run(claims: database.legacyClaims, identity: database.store, dryRun: dryRun, logger: logger)
    }
}
