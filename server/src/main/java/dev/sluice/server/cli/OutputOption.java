package dev.sluice.server.cli;

import picocli.CommandLine.Option;

/** {@code --output}: the human table (default) or one JSON document on standard output, for every command. */
final class OutputOption {

    @Option(names = "--output", paramLabel = "FORMAT", description = "text (default) or json")
    Sluice.Output output = Sluice.Output.text;

    boolean json() {
        return output == Sluice.Output.json;
    }
}
