import AppCore
import Foundation
import Testing

@Suite struct DocumentRulesTests {
    @Test func contentIsRecognizedByItsFirstBytes() {
        #expect(DocumentContentType.sniff(Array("%PDF-1.7\n".utf8)) == .pdf)
        #expect(DocumentContentType.sniff([0xFF, 0xD8, 0xFF, 0xE1, 0, 0]) == .jpeg)
        #expect(DocumentContentType.sniff([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]) == .png)
        #expect(DocumentContentType.sniff(Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8)) == .webp)
        // ISO-BMFF: size, "ftyp", major brand, minor version, compatible brands.
        let heic: [UInt8] = [0, 0, 0, 24] + Array("ftypheic".utf8) + [0, 0, 0, 0] + Array("mif1heic".utf8)
        #expect(DocumentContentType.sniff(heic) == .heic)
        let heifByCompatibleBrand: [UInt8] =
            [0, 0, 0, 20] + Array("ftypXXXX".utf8) + [0, 0, 0, 0] + Array("msf1".utf8)
        #expect(DocumentContentType.sniff(heifByCompatibleBrand) == .heic)
        let mp4: [UInt8] = [0, 0, 0, 20] + Array("ftypisom".utf8) + [0, 0, 0, 0] + Array("mp41".utf8)
        #expect(DocumentContentType.sniff(mp4) == nil)
        #expect(DocumentContentType.sniff([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1]) == nil)  // ELF
        #expect(DocumentContentType.sniff(Array("MZ\u{90}\u{0}".utf8)) == nil)  // Windows executable
        #expect(DocumentContentType.sniff(Array("<svg xmlns".utf8)) == nil)
        #expect(DocumentContentType.sniff([]) == nil)
        #expect(DocumentContentType.sniff(Array("%PD".utf8)) == nil)
    }

    @Test func declaredNamesAndTypesMustAgreeWithTheContent() {
        #expect(DocumentContentType.pdf.agrees(withFileName: "скан.PDF", declaredType: "application/pdf"))
        #expect(DocumentContentType.pdf.agrees(withFileName: "паспорт стр.2", declaredType: nil))
        #expect(DocumentContentType.jpeg.agrees(withFileName: "IMG_1.jpeg", declaredType: "application/octet-stream"))
        #expect(DocumentContentType.heic.agrees(withFileName: "IMG_2.HEIC", declaredType: "image/heif"))
        #expect(!DocumentContentType.png.agrees(withFileName: "scan.pdf", declaredType: "image/png"))
        #expect(!DocumentContentType.pdf.agrees(withFileName: "scan.pdf", declaredType: "image/jpeg"))
        #expect(!DocumentContentType.jpeg.agrees(withFileName: "photo.exe", declaredType: nil))
        #expect(!DocumentContentType.pdf.agrees(withFileName: "report.html", declaredType: nil))
    }

    @Test func namesLoseTheirPathAndControlCharacters() {
        #expect(DocumentFileName.sanitize("../../etc/passwd") == "passwd")
        #expect(DocumentFileName.sanitize("C:\\Users\\me\\скан.pdf") == "скан.pdf")
        #expect(DocumentFileName.sanitize("a\nb\r\t.pdf") == "ab.pdf")
        #expect(DocumentFileName.sanitize("evil\u{202E}fdp.exe") == "evilfdp.exe")
        #expect(DocumentFileName.sanitize("...hidden") == "hidden")
        #expect(DocumentFileName.sanitize("../", fallback: "passport.pdf") == "passport.pdf")
        #expect(DocumentFileName.sanitize("\u{0}\u{1}", fallback: "x") == "x")
        let long = String(repeating: "я", count: 300) + ".jpeg"
        let cut = DocumentFileName.sanitize(long)
        #expect(cut.count == DocumentFileName.maxLength && cut.hasSuffix(".jpeg"))
    }

    @Test func contentDispositionIsAsciiWithAnEncodedUTF8Name() {
        #expect(
            DocumentFileName.contentDisposition("скан \"1\".pdf")
                == "attachment; filename=\"____ 1.pdf\"; filename*=UTF-8''%D1%81%D0%BA%D0%B0%D0%BD%20%221%22.pdf")
        #expect(!DocumentFileName.contentDisposition("a\r\nSet-Cookie: x=1").contains("\n"))
    }

    @Test func slotsComeFromThePlanAndDecideTheStatusAfterConfirmation() throws {
        let plan = ClaimPlan(
            sessionToken: "t", claimID: "c", submissionID: "s", typeCode: "travel", title: "T", summary: "S",
            fields: [],
            requiredDocuments: [
                RequiredDocument(code: "passport", title: "Паспорт"),
                RequiredDocument(code: "photos", title: "Фото", required: false),
            ], nextSteps: [])
        let slots = DocumentSlots(planJSON: plan.jsonText())
        #expect(slots.documents.map(\.code) == ["passport", "photos"])
        #expect(slots.statusAfterConfirmation == .awaitingDocuments)
        #expect(slots.missing(given: []).map(\.code) == ["passport"])
        #expect(slots.missing(given: ["photos"]).map(\.code) == ["passport"])
        #expect(slots.missing(given: ["passport"]).isEmpty)
        var none = plan
        none.requiredDocuments = []
        #expect(DocumentSlots(planJSON: none.jsonText()).statusAfterConfirmation == .inWork)
        #expect(DocumentSlots(planJSON: nil).statusAfterConfirmation == .inWork)
    }

    @Test func documentsMetaListsEveryDocument() {
        let document = ClaimDocument(
            id: "d1", claimID: "c1", fieldName: "passport", fileID: "f1", fileName: "ab.pdf",
            originalFileName: "скан.pdf", contentType: .pdf, size: 10, sha256: "ab",
            uploadedAt: Date(timeIntervalSince1970: 1_796_306_709))
        let meta = DocumentsMeta.encode([document, document])
        #expect(DocumentsMeta.fieldNames(in: meta) == ["passport", "passport"])
        #expect(meta.contains(#""original_file_name":"скан.pdf""#))
        #expect(meta.contains(#""content_type":"application/pdf""#))
        #expect(DocumentsMeta.fieldNames(in: #"[{"field_name":"legacy","file_id":"x"}, {"other":1}]"#) == ["legacy"])
    }
}
