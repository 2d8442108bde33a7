import FlintTestSupport
import FlintCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// An acknowledged write survives the server being killed; SIGTERM shuts down cleanly.
@Suite struct DurabilityTests {
    @Test func everyAcknowledgedWriteSurvivesKill9() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(dataDirectory: directory.path)
        let port = server.port

        // Several writers on their own connections write until the server dies under them.
        let acknowledged = Acknowledged()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    let client = TestClient(host: "127.0.0.1", port: port)
                    client.connect()
                    let http = HTTPTestClient(client: client, port: port)
                    defer { Task { try? await client.shutdown() } }
                    for i in 0..<2000 {
                        let path = "durable/w\(writer)-\(i)"
                        guard let reply = try? await http.send(.put, "/v1/documents/\(path)", body: #"{"writer": \#(writer), "i": \#(i)}"#),
                            reply.status == .ok
                        else { return }
                        await acknowledged.add(path)
                    }
                }
            }
            group.addTask {
                // Kill once a good number of writes are acknowledged and more are in flight.
                while await acknowledged.count < 200 { await Task.yield() }
                try await server.stop(signal: SIGKILL)
            }
            try await group.waitForAll()
        }

        let written = await acknowledged.paths
        #expect(written.count >= 200)
        let restarted = try await ServerProcess(dataDirectory: directory.path)
        for path in written {
            let reply = try await restarted.http.send(.get, "/v1/documents/\(path)")
            #expect(reply.status == .ok, "acknowledged \(path) was lost")
        }
        try await restarted.stop(signal: SIGKILL)
    }

    @Test func sigtermStopsTheServerCleanlyAndKeepsItsData() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(dataDirectory: directory.path)
        let put = try await server.http.send(.put, "/v1/documents/a/b", body: #"{"kept": true}"#)
        #expect(put.status == .ok)
        let status = try await server.stop(signal: SIGTERM)
        #expect(status == 0)
        let restarted = try await ServerProcess(dataDirectory: directory.path)
        let got = try await restarted.http.send(.get, "/v1/documents/a/b")
        #expect(try got.json["data"] == .object(["kept": .bool(true)]))
        try await restarted.stop(signal: SIGTERM)
    }
}

actor Acknowledged {
    var paths: [String] = []
    var count: Int { paths.count }
    func add(_ path: String) { paths.append(path) }
}
