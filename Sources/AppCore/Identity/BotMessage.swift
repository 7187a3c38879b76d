/// One bot message (a Bot API `sendMessage` call) and the keyboard that goes with it. The bot's replies are
/// enqueued in the outbox as ``OutboxKind/telegramMessage`` items and sent by its dispatcher.
public struct BotMessage: Sendable, Equatable {
    /// The buttons under (inline) or instead of (reply) the keyboard.
    public enum Keyboard: Sendable, Equatable {
        /// An inline `web_app` button opening the Mini App at `url` (launched this way, the Mini App gets
        /// `initData` with the user; a reply-keyboard `web_app` button would open it without).
        case openMiniApp(text: String, url: String)
        /// A one-time reply keyboard with a `request_contact` button (the person shares their own number).
        case requestContact(text: String)
        /// Removes a reply keyboard shown earlier.
        case remove
    }

    public var chatID: Int64
    public var text: String
    public var keyboard: Keyboard?

    public init(chatID: Int64, text: String, keyboard: Keyboard? = nil) {
        self.chatID = chatID
        self.text = text
        self.keyboard = keyboard
    }
}
