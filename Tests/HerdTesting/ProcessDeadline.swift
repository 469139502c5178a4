import Foundation

/// Bounded waits on child processes. A Swift Testing time limit cannot end a wait that ignores
/// cancellation (a blocking `waitUntilExit`, a read of a pipe), and one such wait held a whole CI run:
/// these end at their deadline with SIGKILL, so the test fails instead of hanging.
public enum ProcessDeadline {
    /// Waits up to `seconds` for `process` to exit by itself: true if it did. Otherwise it is killed
    /// with SIGKILL and reaped, and the answer is false.
    public static func exit(_ process: Process, within seconds: Double) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while process.isRunning && ContinuousClock.now < deadline && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
        }
        guard process.isRunning else { return true }
        kill(process.processIdentifier, SIGKILL)
        _ = try? await OffPool.run { process.waitUntilExit() }
        return false
    }

    /// Kills `process` with SIGKILL when `seconds` pass, unless the returned item is cancelled first:
    /// blocking reads of its pipes then end (at end of file) instead of waiting for ever.
    public static func killAfter(_ seconds: Double, _ process: Process) -> DispatchWorkItem {
        let item = DispatchWorkItem { [process] in if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(seconds * 1000)), execute: item)
        return item
    }
}
