package dev.sluice.server.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * The bearer tokens callers may present, from a file of lines {@code CALLER-ID sha256:HEX} (the
 * SHA-256 of the token, so the file holds no token itself; {@code #} starts a comment). Make a
 * line with {@code printf '%s' "$TOKEN" | sha256sum}. The file is looked at again every interval:
 * a valid new file is used at once, an invalid one refused with a warning and the tokens in use
 * kept.
 */
final class CallerTokens implements Function<String, String> {

    private static final Logger LOG = Logger.getLogger(CallerTokens.class.getName());

    private final Path file;
    private volatile Map<String, String> callers;
    private String loaded;
    private String refused;

    /** Reads the file now; one that cannot be used stops start-up with a message naming its line. */
    CallerTokens(Path file) throws SettingsException {
        this.file = file;
        String text = read();
        this.callers = parse(text);
        this.loaded = text;
    }

    /** The caller owning {@code token}, or {@code null}. */
    @Override
    public String apply(String token) {
        return callers.get(sha256(token));
    }

    /** Looks at the file again; uses it when it changed and is valid. */
    synchronized void reload() {
        String text;
        try {
            text = read();
        } catch (SettingsException e) {
            return;
        }
        if (text.equals(loaded) || text.equals(refused)) {
            return;
        }
        try {
            callers = parse(text);
            loaded = text;
            refused = null;
            LOG.info(() -> "caller tokens from " + file + " in use: " + callers.size() + " token(s)");
        } catch (SettingsException e) {
            refused = text;
            LOG.warning(e.getMessage() + "; the tokens in use stay");
        }
    }

    private String read() throws SettingsException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new SettingsException("caller tokens: cannot read " + file + ": " + e.getMessage());
        }
    }

    private Map<String, String> parse(String text) throws SettingsException {
        Map<String, String> out = new HashMap<>();
        List<String> lines = text.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split("\\s+");
            String where = file + ":" + (i + 1) + ": ";
            if (parts.length != 2 || !parts[1].startsWith("sha256:")) {
                throw new SettingsException("caller tokens: " + where + "expected 'CALLER-ID sha256:HEX', got '" + line + "'");
            }
            String hex = parts[1].substring("sha256:".length()).toLowerCase(java.util.Locale.ROOT);
            if (!hex.matches("[0-9a-f]{64}")) {
                throw new SettingsException("caller tokens: " + where + "'" + parts[1] + "' is not sha256: and 64 hexadecimal digits");
            }
            if (out.putIfAbsent(hex, parts[0]) != null) {
                throw new SettingsException("caller tokens: " + where + "a token is listed twice");
            }
        }
        return Map.copyOf(out);
    }

    static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }
}
