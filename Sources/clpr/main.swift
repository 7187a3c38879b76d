// The executable stays thin: parse the command, run it, exit with its status. Everything else lives in App.
#if canImport(Glibc)
    import Glibc
#endif

exit(Command.main(arguments: Array(CommandLine.arguments.dropFirst())))
