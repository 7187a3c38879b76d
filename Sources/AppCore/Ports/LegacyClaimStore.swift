/// A claim written before clpr whose `unified_id` is missing (NULL or blank): the original system's web-form
/// drafts. Only what the backfill needs to decide whom it belongs to.
public struct LegacyClaim: Sendable, Equatable {
    /// `clpr_claims.id`.
    public var id: String
    /// `clpr_claims.channel` as stored (nil when the column is NULL).
    public var channel: String?
    /// `payload->>'phone'` as stored (typed by the person, any format), or nil.
    public var phone: String?

    public init(id: String, channel: String?, phone: String?) {
        self.id = id
        self.channel = channel
        self.phone = phone
    }
}

/// One claim's owner, found by the backfill.
public struct UnifiedIDAssignment: Sendable, Equatable {
    /// `clpr_claims.id`.
    public var claimID: String
    /// The owner: becomes `unified_id` and `user_id`.
    public var user: User
    /// The normalized phone (E.164): becomes `payload.phone`.
    public var phone: String

    public init(claimID: String, user: User, phone: String) {
        self.claimID = claimID
        self.user = user
        self.phone = phone
    }
}

/// Maintenance access to legacy claims for `clpr backfill-unified-id`: read the claims that lack an owner, page by
/// page, and give them one. Implemented by both stores; the legacy case is real on PostgreSQL.
public protocol LegacyClaimStore: Sendable {
    /// Claims whose `unified_id` is NULL or blank, ordered by `id`, with `id` greater than `after` (nil: from the
    /// start), at most `limit` (keyset pagination: stable while earlier pages are being fixed).
    func claimsMissingUnifiedID(after: String?, limit: Int) async throws -> [LegacyClaim]

    /// The user owning the account `(channel, channelUserID)`, or nil; creates nothing.
    func existingUser(channel: Channel, channelUserID: String) async throws -> User?

    /// Sets `unified_id`, `user_id` and `payload.phone` (keeping the typed text in `payload.legacy_phone` when it
    /// differs) of every claim in `assignments`, in one transaction, and only where `unified_id` is still
    /// missing (a claim fixed meanwhile is left alone). `updated_at` is not touched.
    /// - Returns: how many claims were changed.
    func assignUnifiedIDs(_ assignments: [UnifiedIDAssignment]) async throws -> Int
}
