package dev.sluice.server.node;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine;

import java.util.List;
import java.util.Map;

/**
 * The node's command line and environment, read with picocli from the one table of
 * {@link Settings}: every setting there that has a flag is an option here, with its variable; a
 * flag wins over its variable. Every bad value is reported as one line naming the flag or the
 * variable it came from.
 */
final class CommandLineSettings {

    private CommandLineSettings() {
    }

    /** What the command line asks for: a node with these settings, or help, or the version, or policy files checked. */
    record Parsed(NodeSettings settings, boolean help, boolean version, List<String> check) {
        Parsed(NodeSettings settings, boolean help, boolean version) {
            this(settings, help, version, List.of());
        }
    }

    /** The command line's model: one option per setting, plus {@code --help} and {@code --version}. */
    static CommandLine commandLine() {
        CommandSpec spec = CommandSpec.create().name("sluice-server");
        spec.usageMessage()
                .customSynopsis("Usage: java -jar sluice-server.jar [options]")
                .description("", "Starts a Sluice node: a gRPC RateLimiter service over an embedded Hazelcast member.",
                        "With no options: a single member on port 8081 serving the bundled demo policy",
                        "(domain \"demo\", 10 requests per second per \"ip\" descriptor).", "",
                        "Options (each may instead be set by its environment variable; the option wins):")
                .width(100)
                .longOptionsMaxWidth(36);
        for (Setting<?> s : Settings.commandLine()) {
            spec.addOption(OptionSpec.builder(s.flag())
                    .paramLabel(s.valueName())
                    .type(String.class)
                    .arity("1")
                    .description(s.help().replace("`", ""), "env " + s.env() + ", default: " + s.defaultText())
                    .build());
        }
        spec.addOption(OptionSpec.builder("--check-policies").paramLabel("FILE").type(List.class).auxiliaryTypes(String.class).arity("1..*")
                .description("check policy files without starting a node: print every problem with file, line and reason;",
                        "exit 0 when all are valid, 1 when any is not")
                .build());
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("print this help and exit").build());
        spec.addOption(OptionSpec.builder("--version").versionHelp(true).description("print the version and exit").build());
        CommandLine cl = new CommandLine(spec);
        cl.setOverwrittenOptionsAllowed(true);
        return cl;
    }

    static String usage() {
        return commandLine().getUsageMessage();
    }

    static Parsed parse(String[] args, Map<String, String> env) throws SettingsException {
        ParseResult parsed;
        try {
            parsed = commandLine().parseArgs(args);
        } catch (CommandLine.UnmatchedArgumentException e) {
            List<String> unmatched = e.getUnmatched();
            String first = unmatched.isEmpty() ? "" : unmatched.get(0);
            throw new SettingsException(first.startsWith("-") ? "unknown option " + flagOf(first) + "; see --help"
                    : "unexpected argument '" + first + "'; options take the form --name value, see --help");
        } catch (CommandLine.MissingParameterException e) {
            OptionSpec option = e.getMissing().isEmpty() ? null : (OptionSpec) e.getMissing().get(0);
            throw new SettingsException(option == null ? e.getMessage()
                    : option.longestName() + ": needs a value (" + option.paramLabel() + ")");
        } catch (CommandLine.ParameterException e) {
            throw new SettingsException(e.getMessage() + "; see --help");
        }
        if (parsed.isUsageHelpRequested() || parsed.isVersionHelpRequested()) {
            return new Parsed(null, parsed.isUsageHelpRequested(), parsed.isVersionHelpRequested());
        }
        if (parsed.hasMatchedOption("--check-policies")) {
            return new Parsed(null, false, false, parsed.matchedOptionValue("--check-policies", List.<String>of()));
        }
        NodeSettings.Builder b = NodeSettings.builder();
        for (Setting<?> s : Settings.commandLine()) {
            String flagged = parsed.matchedOptionValue(s.flag(), null);
            String variable = env.get(s.env());
            if (flagged != null) {
                put(b, s, s.flag(), flagged);
            } else if (variable != null && !variable.isEmpty()) {
                put(b, s, s.env(), variable);
            }
        }
        try {
            return new Parsed(b.build(), false, false);
        } catch (IllegalArgumentException e) {
            throw new SettingsException(e.getMessage());
        }
    }

    private static <T> void put(NodeSettings.Builder b, Setting<T> s, String origin, String text) throws SettingsException {
        b.set(s, s.parse(origin, text.trim()));
    }

    private static String flagOf(String arg) {
        int eq = arg.indexOf('=');
        return eq > 0 ? arg.substring(0, eq) : arg;
    }
}
