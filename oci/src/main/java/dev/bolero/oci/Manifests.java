package dev.bolero.oci;

import dev.bolero.core.Digest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Parses manifests, indexes and image configs; picks the linux/amd64 entry of an index. */
final class Manifests {
    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    static final String DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json";
    static final String DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    static final List<String> ACCEPTED = List.of(OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST);

    private static final List<String> IMAGE_CONFIG_TYPES =
            List.of("application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private Manifests() {}

    /** A content descriptor. */
    record Descriptor(String mediaType, Digest digest, long size) {
        /**
         * Whether this is a foreign (non-distributable) layer, which the image spec lets a puller skip: its content
         * comes from elsewhere (Windows base layers) and never from the image's registry.
         */
        boolean foreign() {
            return mediaType.contains("foreign") || mediaType.contains("nondistributable");
        }
    }

    /** What a manifests endpoint returned. */
    sealed interface Manifest permits ImageManifest, Index {}

    /** A single-platform image: its config blob and its layers, bottom first (foreign ones included). */
    record ImageManifest(Descriptor config, List<Descriptor> layers) implements Manifest {
        ImageManifest {
            layers = List.copyOf(layers);
        }
    }

    /** A multi-platform index (OCI index or Docker manifest list). */
    record Index(List<Entry> manifests) implements Manifest {
        Index {
            manifests = List.copyOf(manifests);
        }
    }

    /** One entry of an index; {@code os}/{@code architecture} are "" when the entry has no platform. */
    record Entry(Descriptor descriptor, String os, String architecture, String variant) {
        String platform() {
            return os + "/" + architecture + (variant.isEmpty() ? "" : "/" + variant);
        }
    }

    /**
     * Parses a manifest body.
     *
     * @param contentType the response's Content-Type, used when the body carries no mediaType
     */
    static Manifest parse(byte[] body, String contentType) throws PullException {
        JsonNode root = readTree(body, "manifest");
        if (root.path("schemaVersion").asInt(0) == 1) {
            throw new PullException("manifest is Docker schema 1, which is not supported (push the image again with a current client)");
        }
        String mediaType = root.path("mediaType").asString("");
        if (mediaType.isEmpty()) {
            mediaType = contentType == null ? "" : contentType.split(";")[0].strip();
        }
        if (mediaType.equals(DOCKER_SCHEMA1) || mediaType.equals(DOCKER_SCHEMA1_SIGNED)) {
            throw new PullException("manifest is Docker schema 1, which is not supported (push the image again with a current client)");
        }
        boolean index = switch (mediaType) {
            case OCI_INDEX, DOCKER_LIST -> true;
            case OCI_MANIFEST, DOCKER_MANIFEST -> false;
            default -> {
                if (root.has("manifests")) {
                    yield true;
                }
                if (root.has("layers") && root.has("config")) {
                    yield false;
                }
                throw new PullException("manifest media type '" + mediaType + "' is not supported");
            }
        };
        return index ? parseIndex(root) : parseImage(root);
    }

    private static Index parseIndex(JsonNode root) throws PullException {
        List<Entry> entries = new ArrayList<>();
        for (JsonNode m : root.path("manifests")) {
            JsonNode platform = m.path("platform");
            entries.add(new Entry(descriptor(m, "index entry"), platform.path("os").asString(""),
                    platform.path("architecture").asString(""), platform.path("variant").asString("")));
        }
        return new Index(entries);
    }

    private static ImageManifest parseImage(JsonNode root) throws PullException {
        Descriptor config = descriptor(root.path("config"), "config");
        if (!IMAGE_CONFIG_TYPES.contains(config.mediaType())) {
            throw new PullException("not a container image (config media type '" + config.mediaType() + "')");
        }
        List<Descriptor> layers = new ArrayList<>();
        for (JsonNode l : root.path("layers")) {
            layers.add(descriptor(l, "layer"));
        }
        return new ImageManifest(config, layers);
    }

    private static Descriptor descriptor(JsonNode node, String what) throws PullException {
        String digest = node.path("digest").asString("");
        try {
            return new Descriptor(node.path("mediaType").asString(""), Digest.parse(digest), node.path("size").asLong(-1));
        } catch (IllegalArgumentException e) {
            throw new PullException(what + " descriptor is invalid: " + e.getMessage(), e);
        }
    }

    /** The linux/amd64 entry of an index (entries without a platform, such as attestations, are skipped). */
    static Descriptor selectLinuxAmd64(Index index) throws PullException {
        Optional<Entry> match = index.manifests().stream()
                .filter(e -> e.os().equals("linux") && e.architecture().equals("amd64"))
                .min((a, b) -> Boolean.compare(!a.variant().isEmpty() && !a.variant().equals("v1"),
                        !b.variant().isEmpty() && !b.variant().equals("v1")));
        if (match.isEmpty()) {
            List<String> platforms = index.manifests().stream().map(Entry::platform).distinct().toList();
            throw new PullException("no linux/amd64 image in the index (it has " + platforms + ")");
        }
        return match.get().descriptor();
    }

    /** Parses an image config blob. */
    static ImageConfig parseConfig(byte[] body) throws PullException {
        JsonNode config = readTree(body, "image config").path("config");
        return new ImageConfig(strings(config.path("Entrypoint")), strings(config.path("Cmd")), strings(config.path("Env")),
                config.path("WorkingDir").asString(""), config.path("User").asString(""));
    }

    /** The diff_ids of an image config blob, bottom layer first. */
    static List<Digest> diffIds(byte[] body) throws PullException {
        List<Digest> ids = new ArrayList<>();
        for (JsonNode id : readTree(body, "image config").path("rootfs").path("diff_ids")) {
            try {
                ids.add(Digest.parse(id.asString("")));
            } catch (IllegalArgumentException e) {
                throw new PullException("image config has an invalid diff_id: " + e.getMessage(), e);
            }
        }
        return ids;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        for (JsonNode s : array) {
            out.add(s.asString(""));
        }
        return out;
    }

    private static JsonNode readTree(byte[] body, String what) throws PullException {
        try {
            JsonNode root = JSON.readTree(body);
            if (root == null || !root.isObject()) {
                throw new PullException(what + " is not a JSON object");
            }
            return root;
        } catch (JacksonException e) {
            throw new PullException(what + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }
}
