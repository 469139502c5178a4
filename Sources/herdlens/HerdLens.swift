import ArgumentParser

/// `herdlens`: the HerdLens command line. Subcommands stay thin; the work lives in the libraries.
@main
struct HerdLens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herdlens",
        abstract: "Remote video supervision of livestock: annotate, compose and stream camera frames.",
        subcommands: [
            ServeCommand.self, SimulateCommand.self, ComposeCommand.self, TokenCommand.self, VerifyCommand.self, SessionCommand.self, KeyCommand.self, ExportCommand.self, AuditCommand.self, EvalCommand.self, SampleCommand.self,
            BenchCommand.self,
        ]
    )
}
