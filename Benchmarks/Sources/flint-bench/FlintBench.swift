import ArgumentParser

/// `flint-bench`: the benchmarks of Flint. Each subcommand prints what it measured and the settings it used.
@main
struct FlintBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flint-bench",
        abstract: "Benchmarks for Flint: in-process query latency, HTTP write throughput, server start-up, realtime fan-out, idle WebSocket memory, file upload/download throughput and rules evaluation.",
        subcommands: [
            QueryBenchmark.self, WritesBenchmark.self, StartupBenchmark.self, FanoutBenchmark.self,
            IdleConnectionsBenchmark.self, FilesBenchmark.self, RulesBenchmark.self,
        ])
}
