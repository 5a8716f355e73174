package dev.bolero.oci;

import dev.bolero.core.Digest;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A parsed image reference: {@code [registry/]repository[:tag][@sha256:hex]}, normalised the way Docker does it:
 * {@code busybox} is {@code docker.io/library/busybox:latest}. A reference with neither tag nor digest gets the tag
 * {@code latest}; a reference with a digest keeps its tag (if any) only for display, the digest is what is pulled.
 *
 * @param registry the registry name as written ({@code docker.io}, {@code 127.0.0.1:5000}, {@code ghcr.io})
 * @param repository the repository path, e.g. {@code library/busybox}
 * @param tag the tag, if any
 * @param digest the manifest digest, if any
 */
public record ImageReference(String registry, String repository, Optional<String> tag, Optional<Digest> digest) {
    /** The registry name Docker Hub references normalise to. */
    public static final String DOCKER_HUB = "docker.io";

    private static final String DOCKER_HUB_API_HOST = "registry-1.docker.io";
    private static final Pattern HOST = Pattern.compile(
            "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?");
    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    private static final int MAX_REPOSITORY_LENGTH = 255;

    /** @throws IllegalArgumentException if a part is malformed or neither tag nor digest is given */
    public ImageReference {
        if (registry == null || !HOST.matcher(registry).matches()) {
            throw new IllegalArgumentException("registry '" + registry + "' is not a valid host[:port]");
        }
        if (repository == null || repository.length() > MAX_REPOSITORY_LENGTH) {
            throw new IllegalArgumentException("repository '" + repository + "' is missing or longer than 255 characters");
        }
        for (String component : repository.split("/", -1)) {
            if (!COMPONENT.matcher(component).matches()) {
                throw new IllegalArgumentException("repository '" + repository + "' has an invalid component '"
                        + component + "' (lowercase letters, digits and single separators . _ __ - only)");
            }
        }
        tag.ifPresent(t -> {
            if (!TAG.matcher(t).matches()) {
                throw new IllegalArgumentException("tag '" + t + "' is not valid (at most 128 of [A-Za-z0-9_.-], not starting with . or -)");
            }
        });
        if (tag.isEmpty() && digest.isEmpty()) {
            throw new IllegalArgumentException("reference " + registry + "/" + repository + " has neither tag nor digest");
        }
    }

    /**
     * Parses a reference as Docker does.
     *
     * @throws IllegalArgumentException naming the input and what is wrong with it
     */
    public static ImageReference parse(String text) {
        try {
            return doParse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid image reference '" + text + "': " + e.getMessage(), e);
        }
    }

    private static ImageReference doParse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("it is empty");
        }
        if (!text.strip().equals(text)) {
            throw new IllegalArgumentException("it has leading or trailing whitespace");
        }
        String rest = text;
        Optional<Digest> digest = Optional.empty();
        int at = rest.indexOf('@');
        if (at >= 0) {
            digest = Optional.of(Digest.parse(rest.substring(at + 1)));
            rest = rest.substring(0, at);
        }
        Optional<String> tag = Optional.empty();
        int colon = rest.lastIndexOf(':');
        if (colon > rest.lastIndexOf('/')) {
            tag = Optional.of(rest.substring(colon + 1));
            rest = rest.substring(0, colon);
        }
        if (tag.isEmpty() && digest.isEmpty()) {
            tag = Optional.of("latest");
        }
        String registry = DOCKER_HUB;
        String repository = rest;
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            String first = rest.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
                registry = first;
                repository = rest.substring(slash + 1);
            }
        }
        if (registry.equals("index.docker.io")) {
            registry = DOCKER_HUB;
        }
        if (registry.equals(DOCKER_HUB) && !repository.contains("/")) {
            repository = "library/" + repository;
        }
        if (repository.isEmpty()) {
            throw new IllegalArgumentException("the repository is empty");
        }
        if (!repository.equals(repository.toLowerCase(java.util.Locale.ROOT))) {
            throw new IllegalArgumentException("the repository must be lowercase");
        }
        return new ImageReference(registry, repository, tag, digest);
    }

    /** The host[:port] the registry API is reached at ({@code registry-1.docker.io} for Docker Hub). */
    public String apiHost() {
        return registry.equals(DOCKER_HUB) ? DOCKER_HUB_API_HOST : registry;
    }

    /** What to ask the manifests endpoint for: the digest if there is one, else the tag. */
    public String manifestReference() {
        return digest.map(Digest::toString).orElseGet(tag::orElseThrow);
    }

    /** The same repository pinned to {@code manifestDigest}, tag kept for display. */
    public ImageReference withDigest(Digest manifestDigest) {
        return new ImageReference(registry, repository, tag, Optional.of(manifestDigest));
    }

    /** The canonical form, e.g. {@code docker.io/library/busybox:latest} or {@code host:5000/x@sha256:…}. */
    @Override
    public String toString() {
        return registry + "/" + repository + tag.map(t -> ":" + t).orElse("") + digest.map(d -> "@" + d).orElse("");
    }
}
