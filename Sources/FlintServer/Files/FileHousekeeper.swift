import FlintCore
import Logging
import ServiceLifecycle

/// Cleans up after uploads: removes resumable uploads past their expiry (and their bytes), blobs that no metadata
/// refers to (left by a crash between storing a blob and committing it, or a failed removal), and abandoned
/// temporary files. Runs once at start-up, then every `interval`, until graceful shutdown.
struct FileHousekeeper: Service {
    let storage: FileStorage
    let interval: Duration
    /// How long an unreferenced blob or temporary file is left alone: writes in flight are younger than this.
    let graceSeconds: Int64
    let logger: Logger

    init(storage: FileStorage, interval: Duration = .seconds(60), graceSeconds: Int64 = 3600, logger: Logger) {
        self.storage = storage
        self.interval = interval
        self.graceSeconds = graceSeconds
        self.logger = logger
    }

    /// What one pass removed.
    struct Report: Sendable, Equatable {
        var expiredUploads = 0
        var orphanBlobs = 0
    }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let report = try await sweep(now: Timestamp.now())
                if report != Report() {
                    logger.info(
                        "file housekeeping",
                        metadata: ["expiredUploads": "\(report.expiredUploads)", "orphanBlobs": "\(report.orphanBlobs)"])
                }
            } catch {
                logger.warning("file housekeeping failed", metadata: ["error": "\(error)"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }

    /// One pass, as of `now`.
    func sweep(now: Timestamp) async throws -> Report {
        var report = Report()
        for upload in try await storage.metadata.expiredUploads(before: now) {
            // An upload a request is writing to right now is left for the next pass.
            guard storage.uploadLocks.acquire(upload.id) else { continue }
            defer { storage.uploadLocks.release(upload.id) }
            if try await storage.metadata.deleteUpload(upload.id) != nil {
                await storage.removeBlob(upload.blob)
                report.expiredUploads += 1
            }
        }
        // Candidates first, references second: a blob that gains its reference in between is younger than the grace
        // period, so it is not a candidate.
        let candidates = try await storage.blobs.blobs(
            lastWrittenBefore: Timestamp(microseconds: now.microseconds - graceSeconds * 1_000_000))
        if candidates.isEmpty { return report }
        let referenced = try await storage.metadata.referencedBlobs()
        for blob in candidates where !referenced.contains(blob) {
            try await storage.blobs.remove(blob)
            report.orphanBlobs += 1
        }
        return report
    }
}
