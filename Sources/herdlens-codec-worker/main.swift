// The codec worker: started by `herdlens serve` (never by hand), one process per pool slot. It confines
// itself, then parses, composes and encodes untrusted images it gets on stdin. See HerdWorker.
import HerdWorker

#if canImport(Glibc)
import Glibc
#endif

exit(CodecWorkerMain.run(arguments: Array(CommandLine.arguments.dropFirst())))
