import AppCore
import Logging

/// The development code sender: writes the code to the log, where the person running `./run` can read it.
/// Production uses an SMS gateway; this sender is the only place a code is ever logged.
struct LogCodeSender: CodeSender {
    let logger: Logger

    func send(code: String, to phone: PhoneNumber) async throws {
        logger.notice("one-time code for \(phone.masked): \(code)", metadata: ["phone": phone.masked])
    }
}
