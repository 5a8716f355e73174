package dev.bolero.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The web console's files through a real server (SQLite), without a browser ({@link ConsoleBrowserTest} drives one):
 * served with their types, a strict Content-Security-Policy and revalidation, every file the page reaches present,
 * anything else a 404 in the API's error shape, and nothing of it in the API's document.
 */
class ConsoleTest {
    private static final HttpClient CLIENT = HttpClient.newHttpClient();
    /** What the page and the modules load: {@code src="/ui/x"}, {@code href="/ui/x"}, {@code from './x.js'}. */
    private static final Pattern REFERENCE = Pattern.compile("(?:src|href)=\"/ui/([^\"]+)\"|from '\\./([^']+)'");

    @TempDir
    static Path dataDir;
    static Server server;

    @BeforeAll
    static void start() {
        server = Server.start(ClusterSuite.config(dataDir, Optional.empty()));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    private static HttpResponse<String> get(String path, String... headers) throws Exception {
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path));
        if (headers.length > 0) request.headers(headers);
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/ui", "/ui/"})
    void thePageIsServedWithoutATokenUnderAStrictContentSecurityPolicy(String path) throws Exception {
        var page = get(path);
        assertThat(page.statusCode()).as("%s: %s", path, page.body()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html;charset=utf-8");
        assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(csp -> assertThat(csp)
                .contains("default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
                        "form-action 'none'", "frame-ancestors 'none'")
                .doesNotContain("unsafe", "*", "http:", "https:"));
        assertThat(page.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(page.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
        assertThat(page.body()).contains("<script type=\"module\" src=\"/ui/app.js\"></script>")
                .as("no inline script").doesNotContainPattern("<script(?![^>]*\\ssrc=)");
    }

    @Test
    void everyFileThePageReachesIsServedWithItsTypeAndIsRevalidatedByItsEtag() throws Exception {
        Set<String> seen = new LinkedHashSet<>();
        var todo = new ArrayDeque<String>();
        todo.add("index.html");
        while (!todo.isEmpty()) {
            String name = todo.poll();
            if (!seen.add(name)) continue;
            var file = get("/ui/" + name);
            assertThat(file.statusCode()).as("GET /ui/%s", name).isEqualTo(200);
            String type = name.substring(name.lastIndexOf('.') + 1);
            assertThat(file.headers().firstValue("Content-Type")).as("type of %s", name).hasValue(switch (type) {
                case "html" -> "text/html;charset=utf-8";
                case "js" -> "text/javascript;charset=utf-8";
                case "css" -> "text/css;charset=utf-8";
                case "svg" -> "image/svg+xml";
                default -> throw new AssertionError("the page reaches " + name + ", of no served type");
            });
            assertThat(file.headers().firstValue("Cache-Control")).hasValue("no-cache");
            String etag = file.headers().firstValue("ETag").orElseThrow();
            var again = get("/ui/" + name, "If-None-Match", etag);
            assertThat(again.statusCode()).as("revalidated %s", name).isEqualTo(304);
            assertThat(again.body()).isEmpty();
            var matcher = REFERENCE.matcher(file.body());
            while (matcher.find()) todo.add(matcher.group(1) != null ? matcher.group(1) : matcher.group(2));
        }
        assertThat(seen).contains("app.js", "api.js", "machines.js", "pages.js", "chart.js", "dom.js",
                "console.css", "icon.svg");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/ui/nothing.js", "/ui/..%2Fapplication.conf", "/ui/App.js", "/ui/a/b.js",
        "/ui/index.html.bak"})
    void aNameThatIsNotAConsoleFileIsA404InTheApiErrorShape(String path) throws Exception {
        var missing = get(path);
        assertThat(missing.statusCode()).as("%s: %s", path, missing.body()).isEqualTo(404);
        assertThat(missing.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                .startsWith("application/json"));
        assertThat(missing.body()).contains("\"code\":\"not_found\"");
    }

    @Test
    void theConsoleIsNoOperationOfTheApiDocument() throws Exception {
        var doc = new Http.Response(200, get("/v1/openapi.json").body()).json();
        assertThat(doc.path("paths").propertyNames()).isNotEmpty().noneMatch(p -> p.startsWith("/ui"));
    }
}
