package dev.sluice.server.policy;

/**
 * One thing wrong with a policy file.
 *
 * @param source  the file (or other named source) the problem is in
 * @param line    1-based line number, or 0 when the problem has no single line
 * @param path    where in the document, e.g. {@code domains.demo.rules[0].limits[1].capacity}
 * @param message what is wrong, in words a policy author can act on
 */
public record Problem(String source, int line, String path, String message) {

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(source);
        if (line > 0) {
            b.append(':').append(line);
        }
        b.append(": ");
        if (!path.isEmpty()) {
            b.append(path).append(": ");
        }
        return b.append(message).toString();
    }
}
