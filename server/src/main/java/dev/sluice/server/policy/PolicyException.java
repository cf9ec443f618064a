package dev.sluice.server.policy;

import java.util.List;
import java.util.stream.Collectors;

/** A policy source that cannot be used, with every problem found in it. */
public final class PolicyException extends Exception {

    private final transient List<Problem> problems;

    public PolicyException(List<Problem> problems) {
        super(problems.stream().map(Problem::toString).collect(Collectors.joining("\n")));
        this.problems = List.copyOf(problems);
    }

    public List<Problem> problems() {
        return problems;
    }

    /**
     * The report said wherever a file is refused (at start-up, on reload, by {@code --check-policies}):
     * the count, then one line a problem with file, line, path and reason.
     */
    public String report() {
        StringBuilder b = new StringBuilder().append(problems.size()).append(" problem(s):");
        for (Problem p : problems) {
            b.append(System.lineSeparator()).append("  ").append(p);
        }
        return b.toString();
    }
}
