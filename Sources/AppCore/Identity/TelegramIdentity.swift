/// What Telegram tells about a person (Mini App `initData.user`, a bot update's `from`), as kept in
/// `clpr_users_tg`.
public struct TelegramProfile: Sendable, Equatable {
    /// Telegram's user id (`clpr_users_tg.telegram_id`, the `telegram` account's `channel_user_id`).
    public var id: Int64
    public var firstName: String?
    public var lastName: String?
    public var username: String?
    public var languageCode: String?
    public var isPremium: Bool?

    public init(
        id: Int64, firstName: String? = nil, lastName: String? = nil, username: String? = nil,
        languageCode: String? = nil, isPremium: Bool? = nil
    ) {
        self.id = id
        self.firstName = firstName
        self.lastName = lastName
        self.username = username
        self.languageCode = languageCode
        self.isPremium = isPremium
    }
}

/// The outcome of linking a Telegram user to a verified phone (a contact the person shared with the bot).
///
/// The merge rule, when the Telegram user and the web user of that phone are two people in storage: the **web
/// user's** `unified_id` is kept (the phone is the identity the CRM and the workflow already know), and the
/// Telegram user's accounts, claims, `clpr_users_tg` row and sessions move to it in one transaction. The
/// Telegram user's `clpr_users` row stays, marked `merged_into`, so nothing is deleted.
public struct PhoneLink: Sendable, Equatable {
    public enum Outcome: String, Sendable, Equatable {
        /// The phone had no web user: the Telegram user now owns the phone's `web_form` account.
        case linked
        /// The phone's web user was already this Telegram user.
        case alreadyLinked = "already_linked"
        /// Two users became one (the web user's `unified_id`).
        case merged
    }

    /// The one person both channels now lead to.
    public var user: User
    public var outcome: Outcome
    /// Claims that moved to ``user`` (0 unless ``Outcome/merged``).
    public var movedClaims: Int

    public init(user: User, outcome: Outcome, movedClaims: Int = 0) {
        self.user = user
        self.outcome = outcome
        self.movedClaims = movedClaims
    }
}
