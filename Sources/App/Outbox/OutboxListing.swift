import AppCore
import FoundationEssentials

extension Application {
    /// `clpr outbox [--dead]`: the outbox items waiting or being retried (default) or the dead ones, newest
    /// first, one line each. Phones (the CRM items' keys) are masked; bodies are never printed.
    public static func outboxListing(configuration: Configuration, dead: Bool, limit: Int = 200) async throws
        -> String
    {
        let database = try Database.open(configuration)
        defer { database.close() }
        let items = try await database.store.outboxItems(states: dead ? [.dead] : [.pending], limit: limit)
        return OutboxListing.text(items, dead: dead)
    }
}

/// The text of `clpr outbox`.
enum OutboxListing {
    static func text(_ items: [OutboxItem], dead: Bool) -> String {
        var lines = ["\(items.count) \(dead ? "dead" : "pending") outbox item(s)"]
        if !items.isEmpty {
            lines.append("id\tkind\tkey\tattempts\tcreated\t\(dead ? "died" : "next attempt")\tlast error")
        }
        for item in items {
            let key =
                item.kind == .crmContact ? (PhoneNumber(e164: item.key)?.masked ?? "***") : String(item.key.prefix(60))
            let when = dead ? item.finishedAt : item.nextAttemptAt
            lines.append(
                [
                    String(item.id), item.kind.rawValue, key, String(item.attempts), item.createdAt.formatted(.iso8601),
                    when?.formatted(.iso8601) ?? "-", item.lastError ?? "-",
                ].joined(separator: "\t"))
        }
        return lines.joined(separator: "\n")
    }
}
