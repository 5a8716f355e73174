package dev.bolero.api.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One operation of an HTTP API, declared once: what {@link Router} registers its handler under and checks requests
 * against, and what {@link OpenApi} describes. Build one with {@link #get}, {@link #post}, {@link #put} or
 * {@link #delete}, then the builder's methods.
 *
 * @param method the HTTP method
 * @param path the path template, parameters in braces ({@code /v1/namespaces/{ns}})
 * @param id the OpenAPI {@code operationId}, unique in its API
 * @param tag the one group the operation is listed under
 * @param summary one line saying what it does
 * @param description more, or empty
 * @param requests the request bodies it reads, by media type; empty for none
 * @param status the status of a success
 * @param responses the success body, by media type; empty for none ({@code 204})
 * @param errors the error statuses it answers with besides those every operation of its API may give; each has the
 *     error body
 * @param query the query parameters it reads
 * @param published false for an operation left out of the API's document (the node-to-server protocol)
 * @param anonymous true for an operation that needs no token in an API that otherwise does
 */
public record Operation(
        Method method,
        String path,
        String id,
        String tag,
        String summary,
        String description,
        List<Body> requests,
        int status,
        List<Body> responses,
        List<Integer> errors,
        List<Param> query,
        boolean published,
        boolean anonymous) {

    private static final Pattern PATH_PARAM = Pattern.compile("\\{([a-z_]+)}");

    public Operation {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(summary, "summary");
        Objects.requireNonNull(description, "description");
        requests = List.copyOf(requests);
        if (id == null || !id.matches("[a-z][A-Za-z0-9]*")) throw new IllegalArgumentException(path + ": operation id");
        if (tag == null || tag.isBlank()) throw new IllegalArgumentException(id + ": a tag is required");
        if (status < 200 || status > 299) throw new IllegalArgumentException(id + ": success status " + status);
        responses = List.copyOf(responses);
        errors = List.copyOf(new TreeSet<>(errors));
        for (int e : errors) if (e < 400 || e > 599) throw new IllegalArgumentException(id + ": error status " + e);
        query = List.copyOf(query);
    }

    /** The HTTP methods the APIs use. */
    public enum Method {
        GET, POST, PUT, DELETE;

        /** The name as OpenAPI writes it. */
        public String lower() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * A body of one media type. {@code type} is the Java type read or written as JSON ({@code array}: a JSON array of
     * it); null for a body that is not JSON (text, a stream of lines, an archive).
     */
    public record Body(String media, Class<?> type, boolean array) {
        public static final String JSON = "application/json";

        public Body {
            Objects.requireNonNull(media, "media");
            if (type == null && array) throw new IllegalArgumentException("an array of nothing");
        }

        /** Whether the body is a JSON value read into (or written from) {@link #type}. */
        public boolean json() {
            return type != null;
        }
    }

    /** A query parameter: its name, its JSON type ({@code string}, {@code integer}, {@code boolean}) and meaning. */
    public record Param(String name, String type, String description) {
        public Param {
            Objects.requireNonNull(name, "name");
            if (!List.of("string", "integer", "boolean").contains(type)) throw new IllegalArgumentException(type);
            Objects.requireNonNull(description, "description");
        }
    }

    /** The names of the path's parameters, in order. */
    public List<String> pathParams() {
        List<String> names = new ArrayList<>();
        Matcher m = PATH_PARAM.matcher(path);
        while (m.find()) names.add(m.group(1));
        return names;
    }

    /**
     * Whether {@code concretePath} is an instance of this operation's path template. Called on every request of some
     * listeners, so each template's pattern is compiled once ({@link #PATH_PATTERNS}).
     */
    public boolean matches(String concretePath) {
        return PATH_PATTERNS.computeIfAbsent(path, Operation::pathPattern).matcher(concretePath).matches();
    }

    /** The compiled {@link #pathPattern} of each path template {@link #matches} was asked about. */
    private static final Map<String, Pattern> PATH_PATTERNS = new ConcurrentHashMap<>();

    /** The paths that are instances of {@code template}: each {@code {param}} stands for one non-empty segment. */
    private static Pattern pathPattern(String template) {
        String regex = PATH_PARAM.splitAsStream(template).map(Pattern::quote)
                .reduce((a, b) -> a + "[^/]+" + b).orElse("");
        if (template.endsWith("}")) regex += "[^/]+";
        return Pattern.compile(regex);
    }

    /** Whether a request body, when one is sent, must be JSON (415 otherwise). */
    public boolean takesJson() {
        return requests.stream().allMatch(Body::json);
    }

    /** Whether the operation reads a JSON body into {@code type}. */
    public boolean reads(Class<?> type) {
        return requests.stream().anyMatch(b -> b.type() == type);
    }

    public static Builder get(String path) {
        return new Builder(Method.GET, path);
    }

    public static Builder post(String path) {
        return new Builder(Method.POST, path);
    }

    public static Builder put(String path) {
        return new Builder(Method.PUT, path);
    }

    public static Builder delete(String path) {
        return new Builder(Method.DELETE, path);
    }

    /** Builds an {@link Operation}; {@link #id}, {@link #tag} and {@link #summary} are required. */
    public static final class Builder {
        private final Method method;
        private final String path;
        private String id;
        private String tag;
        private String summary;
        private String description = "";
        private final List<Body> requests = new ArrayList<>();
        private int status = 200;
        private final List<Body> responses = new ArrayList<>();
        private final List<Integer> errors = new ArrayList<>();
        private final List<Param> query = new ArrayList<>();
        private boolean published = true;
        private boolean anonymous;

        private Builder(Method method, String path) {
            this.method = method;
            this.path = path;
        }

        public Builder id(String id) {
            this.id = id;
            return this;
        }

        public Builder tag(String tag) {
            this.tag = tag;
            return this;
        }

        public Builder summary(String summary) {
            this.summary = summary;
            return this;
        }

        public Builder description(String description) {
            this.description = description;
            return this;
        }

        /** The request body is JSON read into {@code type}. */
        public Builder body(Class<?> type) {
            requests.add(new Body(Body.JSON, type, false));
            return this;
        }

        /** A request body of {@code media} that is not JSON, streamed to the handler as it comes. */
        public Builder rawBody(String media) {
            requests.add(new Body(media, null, false));
            return this;
        }

        /** Success is {@code status} with {@code type} as JSON. */
        public Builder returns(int status, Class<?> type) {
            this.status = status;
            responses.add(new Body(Body.JSON, type, false));
            return this;
        }

        /** Success is {@code status} with a JSON array of {@code type}. */
        public Builder returnsArrayOf(int status, Class<?> type) {
            this.status = status;
            responses.add(new Body(Body.JSON, type, true));
            return this;
        }

        /** Success is {@code status} with a body of {@code media} that is not one JSON value. */
        public Builder returnsText(int status, String media) {
            this.status = status;
            responses.add(new Body(media, null, false));
            return this;
        }

        /** Success is {@code status} without a body. */
        public Builder returnsNothing(int status) {
            this.status = status;
            return this;
        }

        /** Error statuses it answers with beyond its API's common ones. */
        public Builder errors(Integer... statuses) {
            errors.addAll(List.of(statuses));
            return this;
        }

        public Builder query(String name, String type, String description) {
            query.add(new Param(name, type, description));
            return this;
        }

        /** Leaves the operation out of the API's document. */
        public Builder unpublished() {
            this.published = false;
            return this;
        }

        /** Needs no token. */
        public Builder anonymous() {
            this.anonymous = true;
            return this;
        }

        public Operation build() {
            return new Operation(method, path, id, tag, summary, description, requests, status, responses, errors,
                    query, published, anonymous);
        }
    }
}
