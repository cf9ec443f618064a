package dev.sluice.server.policy;

/**
 * How a domain (or one of its rules) speaks to the caller's clients.
 *
 * @param denyStatus       HTTP status of a denial (429 unless the policy says otherwise)
 * @param headers          which rate-limit header family to send
 * @param retryAfterHeader whether a denial carries {@code Retry-After} (whole seconds, rounded up)
 * @param body             denial body template; empty for no body
 * @param contentType      content type of the body; a JSON type makes placeholders JSON-escaped
 * @param extraHeaders     headers of the policy's own, on every response, after the family's
 * @param values           named texts the templates may use (an operator's support address, say)
 */
public record ResponseStyle(int denyStatus, HeaderStyle headers, boolean retryAfterHeader,
                            BodyTemplate body, String contentType, java.util.List<ExtraHeader> extraHeaders,
                            java.util.Map<String, String> values) {

    public static final ResponseStyle DEFAULT =
            new ResponseStyle(429, HeaderStyle.IETF, true, BodyTemplate.EMPTY, "text/plain; charset=utf-8");

    public ResponseStyle {
        extraHeaders = java.util.List.copyOf(extraHeaders);
        values = java.util.Map.copyOf(values);
    }

    /** A style without extra headers or values. */
    public ResponseStyle(int denyStatus, HeaderStyle headers, boolean retryAfterHeader, BodyTemplate body, String contentType) {
        this(denyStatus, headers, retryAfterHeader, body, contentType, java.util.List.of(), java.util.Map.of());
    }

    public boolean jsonBody() {
        return contentType.toLowerCase(java.util.Locale.ROOT).contains("json");
    }
}
