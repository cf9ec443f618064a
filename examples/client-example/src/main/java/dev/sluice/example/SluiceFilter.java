package dev.sluice.example;

import dev.sluice.client.Acquire;
import dev.sluice.client.AcquireResult;
import dev.sluice.client.ResponseWriter;
import dev.sluice.client.SluiceClient;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.util.Map;
import java.util.function.Function;

/**
 * A {@code jakarta.servlet} filter that asks Sluice before every request: denied requests get
 * the policy's status, headers and body; allowed ones go on with the rate-limit headers added.
 * Copy it, or depend on this example's artifact; {@code describe} turns a request into the
 * domain's descriptors (by default: domain {@code demo}, descriptor {@code ip}).
 */
public final class SluiceFilter implements Filter {

    private final SluiceClient sluice;
    private final Function<HttpServletRequest, Acquire> describe;

    public SluiceFilter(SluiceClient sluice, Function<HttpServletRequest, Acquire> describe) {
        this.sluice = sluice;
        this.describe = describe;
    }

    /** Limits by client IP in domain {@code demo}, with the path and method as descriptors too. */
    public SluiceFilter(SluiceClient sluice) {
        this(sluice, r -> Acquire.domain("demo").with(Map.of("ip", r.getRemoteAddr(), "endpoint", r.getRequestURI(),
                "method", r.getMethod())));
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest http = (HttpServletRequest) request;
        HttpServletResponse out = (HttpServletResponse) response;
        AcquireResult decision = sluice.acquire(describe.apply(http));
        decision.writeTo(new ResponseWriter() {
            @Override
            public void status(int code) {
                out.setStatus(code);
            }

            @Override
            public void header(String name, String value) {
                out.addHeader(name, value);
            }

            @Override
            public void body(String text) {
                try {
                    out.getWriter().write(text);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        });
        if (decision.allowed()) {
            chain.doFilter(request, response);
        }
    }
}
