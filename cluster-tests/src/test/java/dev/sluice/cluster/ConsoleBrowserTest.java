package dev.sluice.cluster;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.TestNodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console in a real browser (Debian's chromium, headless, through its chromedriver) against
 * two nodes in JVMs of their own: the page loads from the node, lists both members, and its
 * figures move when requests are made on the other node; top keys appear for an admin's token
 * and are refused without one.
 */
class ConsoleBrowserTest {

    static final String POLICY = """
            admins: [ops]
            domains:
              shop:
                rules:
                  - name: orders
                    limits: [{name: per_tenant, algorithm: token_bucket, capacity: 5, refill: 1, refill_period: 1h, key: [tenant]}]
            """;

    static final String CHROMIUM = "/usr/bin/chromium";
    static final String CHROMEDRIVER = "/usr/bin/chromedriver";

    @RegisterExtension
    final Closer closer = new Closer();

    @Test
    void thePageShowsTheMembersAndItsFiguresMoveWithTheRequestsMade(@TempDir Path dir) throws Exception {
        assertTrue(new File(CHROMIUM).canExecute() && new File(CHROMEDRIVER).canExecute(),
                "this test needs Debian's chromium and chromium-driver (.ci/run installs them)");
        Path policies = Files.writeString(dir.resolve("shop.yaml"), POLICY);
        Path tokens = Files.writeString(dir.resolve("tokens"), "ops sha256:" + AdminClusterTest.sha256("ops-token") + "\n"
                + "shop sha256:" + AdminClusterTest.sha256("shop-token") + "\n");
        String cluster = TestNodes.uniqueCluster("console");
        List<NodeProcess.Addresses> addresses = List.of(NodeProcess.Addresses.free(), NodeProcess.Addresses.free());
        List<String> members = addresses.stream().map(NodeProcess.Addresses::member).toList();
        List<NodeProcess> nodes = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            NodeProcess node = NodeProcess.start("console-node-" + i, addresses.get(i), members, cluster, policies,
                    Path.of("target", "node-logs"), List.of(), List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"),
                    List.of("--caller-tokens", tokens.toString()));
            closer.add(node);
            nodes.add(node);
        }
        nodes.forEach(NodeProcess::awaitServing);

        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM)
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1200");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER))
                .withLogOutput(OutputStream.nullOutputStream()).build();
        WebDriver browser = new ChromeDriver(service, options);
        closer.add(browser::quit);
        browser.get("http://127.0.0.1:" + addresses.get(0).metricsPort() + "/console");
        assertEquals("Sluice console", browser.getTitle());

        await("both members listed").atMost(Duration.ofSeconds(30)).until(() -> browser.findElements(By.cssSelector("#members tr.member"))
                .stream().filter(r -> r.getText().contains("SERVING")).count() == 2);
        String page = browser.findElement(By.id("members")).getText();
        for (NodeProcess.Addresses a : addresses) {
            assertTrue(page.contains("127.0.0.1:" + a.port()), a + " in " + page);
        }
        assertTrue(text(browser, "cluster-state").contains("2 member(s)"), text(browser, "cluster-state"));
        assertEquals(PolicyLoader.parse(POLICY, "shop.yaml").version(), text(browser, "policy-version"));
        assertTrue(text(browser, "reload-outcome").contains("loaded at start"), text(browser, "reload-outcome"));
        await("a first interval read").atMost(Duration.ofSeconds(30)).until(() -> text(browser, "total-decisions").equals("0")
                && text(browser, "rate-allowed").equals("0.00"));

        // Requests on the other node: the page on this one shows the whole cluster's.
        io.grpc.Metadata bearer = new io.grpc.Metadata();
        bearer.put(io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER), "Bearer shop-token");
        var limiter = RateLimiterGrpc.newBlockingStub(nodes.get(1).channel())
                .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(bearer));
        int allowed = 0;
        for (int i = 0; i < 12; i++) {
            var r = limiter.acquire(AcquireRequest.newBuilder().setDomain("shop").putDescriptors("tenant", "t-" + (i % 2)).build());
            allowed += r.getDecision() == Decision.ALLOWED ? 1 : 0;
        }
        assertEquals(10, allowed, "two tenants of five each");
        await("the numbers move").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> Double.parseDouble(text(browser, "rate-allowed")) > 0 && Double.parseDouble(text(browser, "rate-denied")) > 0);
        await("the totals arrive").atMost(Duration.ofSeconds(30)).until(() -> text(browser, "total-decisions").equals("12"));
        assertTrue(text(browser, "p99").matches("[0-9.]+ (µs|ms|s)"), text(browser, "p99"));
        WebElement limit = browser.findElement(By.cssSelector("#limits tr.limit"));
        assertTrue(limit.getText().startsWith("shop / orders / per_tenant"), limit.getText());
        assertTrue(limit.getText().endsWith(" 2"), "two denials in all: " + limit.getText());

        // Top keys: refused for a caller without the admin role, shown for an admin.
        browser.findElement(By.cssSelector("#top-domain option[value=shop]")).click();
        browser.findElement(By.id("token")).sendKeys("shop-token\t");
        await("refused").atMost(Duration.ofSeconds(15)).until(() -> text(browser, "top-note").equals("caller shop does not hold the admin role"));
        WebElement token = browser.findElement(By.id("token"));
        token.clear();
        token.sendKeys("ops-token\t");
        await("top keys").atMost(Duration.ofSeconds(15)).until(() -> browser.findElements(By.cssSelector("#top tr.top-key")).size() == 2);
        List<WebElement> keys = browser.findElements(By.cssSelector("#top tr.top-key"));
        assertTrue(keys.get(0).getText().matches("6 0 orders / per_tenant tenant=t-[01]"), keys.get(0).getText());
        assertTrue(text(browser, "top-note").startsWith("12 counted in the last minute"), text(browser, "top-note"));
    }

    private static String text(WebDriver browser, String id) {
        return browser.findElement(By.id(id)).getText();
    }
}
