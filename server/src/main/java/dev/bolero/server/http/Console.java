package dev.bolero.server.http;

import dev.bolero.api.ApiException;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The web console at {@code /ui}: static files (an HTML page, JavaScript modules, a style sheet, an icon) from the
 * jar's {@code ui/} resources. The console runs in the browser and calls the public {@code /v1} API with the token
 * its user signs in with; the server keeps no session for it. Its routes are not API operations: they are absent
 * from the OpenAPI document and need no token.
 *
 * <p>Every file is sent with {@link #CONTENT_SECURITY_POLICY} (scripts, styles and calls of this origin only; no
 * inline script or style, no frames, no form submissions), {@code X-Content-Type-Options: nosniff},
 * {@code Referrer-Policy: no-referrer}, and {@code Cache-Control: no-cache} with a strong {@code ETag}: a browser
 * revalidates each file and is answered {@code 304} while the server runs the same build. A name that is not a
 * console file is {@code 404} in the API's error shape.
 */
final class Console {
    /** Where the console is served: its page at {@code /ui} (and {@code /ui/}), its files at {@code /ui/NAME}. */
    static final String PATH = "/ui";
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    private static final String RESOURCES = "ui/";
    private static final String PAGE = "index.html";
    /** A console file's name: no directories, one of the served kinds. */
    private static final Pattern NAME = Pattern.compile("[a-z0-9-]+\\.(html|js|css|svg)");
    private static final Map<String, String> TYPES = Map.of("html", "text/html;charset=utf-8",
            "js", "text/javascript;charset=utf-8", "css", "text/css;charset=utf-8", "svg", "image/svg+xml");

    /** A file as it is served. */
    private record Asset(byte[] bytes, String contentType, String etag) {}

    private final Map<String, Asset> files = new ConcurrentHashMap<>();

    private Console() {}

    /** Serves the console on {@code routes}. */
    static void register(RoutesConfig routes) {
        var console = new Console();
        routes.get(PATH, ctx -> console.serve(ctx, PAGE)); // with the router's default, /ui/ too
        routes.get(PATH + "/{file}", ctx -> console.serve(ctx, ctx.pathParam("file")));
    }

    private void serve(Context ctx, String name) {
        Asset file = file(name).orElseThrow(() -> ApiException.notFound("no route GET " + ctx.path()));
        ctx.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Referrer-Policy", "no-referrer");
        ctx.header("Cache-Control", "no-cache");
        ctx.header("ETag", file.etag());
        String seen = ctx.header("If-None-Match");
        if (seen != null && seen.contains(file.etag())) {
            ctx.status(304);
            return;
        }
        ctx.contentType(file.contentType()).result(file.bytes());
    }

    /** The console file {@code name}, read once from the jar; empty when there is none of that name. */
    private Optional<Asset> file(String name) {
        Matcher m = NAME.matcher(name);
        if (!m.matches()) return Optional.empty();
        Asset known = files.get(name);
        if (known != null) return Optional.of(known);
        try (InputStream in = Console.class.getClassLoader().getResourceAsStream(RESOURCES + name)) {
            if (in == null) return Optional.empty();
            byte[] bytes = in.readAllBytes();
            Asset file = new Asset(bytes, TYPES.get(m.group(1)), "\"" + sha256(bytes).substring(0, 32) + "\"");
            files.put(name, file);
            return Optional.of(file);
        } catch (IOException e) {
            throw new UncheckedIOException("read console file " + name + " from the jar: " + e.getMessage(), e);
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
