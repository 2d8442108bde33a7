@testable import FlintClient
import FlintTestSupport
import Foundation
import Testing

extension ClientIntegrationTests {
    /// Offline because the server itself is gone: the real server process is killed (`kill -9`) and started again on
    /// its data, behind the proxy the app talks to.
    @Suite struct ServerRestartTests {
        @Test func writesMadeWhileTheServerIsDownAreDeliveredOnceItIsBack() async throws {
            let data = try TemporaryDirectory()
            defer { data.remove() }
            var server = try await ServerProcess(dataDirectory: data.path)
            let proxy = try TCPProxy(targetPort: server.port)
            defer { proxy.close() }
            let app = try FlintApp(url: "http://127.0.0.1:\(proxy.port)", cacheDirectory: data.path + "/app", settings: testSettings)
            do {
                let listener = Collector(app.document("counters/c").snapshots(includeMetadataChanges: true))
                try await listener.next("the first snapshot", where: { !$0.metadata.isFromCache })

                // The server applies the first increment, but dies before its answer reaches the app.
                proxy.holdReplies()
                try await app.batch().setData(["n": .increment(1)], forDocument: app.document("counters/c"), merge: true).commit(waitForServer: false)
                let direct = server.http
                try await eventually("the server applied the first increment", until: {
                    try await direct.send(.get, "/v1/documents/counters/c").status == .ok
                })
                try await server.stop(signal: SIGKILL)
                proxy.cut()
                try await listener.next("offline", where: { $0.metadata.isFromCache })

                // More writes while the server is down.
                try await app.batch().setData(["n": .increment(10)], forDocument: app.document("counters/c"), merge: true).commit(waitForServer: false)
                try await listener.next("both increments shown locally", where: { $0["n"] == 11 && $0.metadata.hasPendingWrites })

                server = try await ServerProcess(dataDirectory: data.path)
                proxy.retarget(server.port)
                proxy.restore()
                await app.waitForPendingWrites()
                // The first increment was sent again with its mutation id and answered, not applied twice.
                #expect(try await server.http.send(.get, "/v1/documents/counters/c").json["data"] == .object(["n": .integer(11)]))
                try await listener.next("the server's state", where: { $0["n"] == 11 && !$0.metadata.hasPendingWrites && !$0.metadata.isFromCache })
                listener.cancel()
            } catch {
                await app.close()
                try? await server.stop(signal: SIGKILL)
                throw error
            }
            await app.close()
            try await server.stop(signal: SIGKILL)
        }
    }
}
