package dev.bolero.oci;

import dev.bolero.core.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads an image without a registry into the blob store: an OCI image layout or a {@code docker save} archive, each
 * as a directory or a tar. Names inside the source are untrusted: absolute names, {@code ..} and links leading out of
 * the source fail the import. OCI blobs are verified against their names; a Docker archive's image gets a Docker v2
 * manifest written for it (its digest is therefore this node's, not a registry's).
 */
final class ImageImporter {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int MAX_INDEX_DEPTH = 2;
    private static final int MAX_JSON_BYTES = 16 * 1024 * 1024;
    private static final List<String> NAME_ANNOTATIONS = List.of("io.containerd.image.name", "org.opencontainers.image.ref.name");

    private final BlobStore blobs;

    ImageImporter(BlobStore blobs) {
        this.blobs = blobs;
    }

    /** The imported image: its manifest (stored as a blob), and the references it carried. */
    record Imported(Digest digest, Manifests.ImageManifest manifest, List<String> references) {
        Imported {
            references = List.copyOf(references);
        }
    }

    Imported read(Path source) throws PullException, IOException {
        if (!Files.exists(source)) {
            throw new PullException("no such file or directory");
        }
        Source files = Files.isDirectory(source) ? new DirectorySource(source.toRealPath(), blobs) : TarSource.read(source, blobs);
        if (files.exists("index.json")) {
            return readOciLayout(files);
        }
        if (files.exists("manifest.json")) {
            return readDockerArchive(files);
        }
        throw new PullException("neither an OCI image layout (no index.json) nor a docker save archive (no manifest.json)");
    }

    private Imported readOciLayout(Source files) throws PullException, IOException {
        JsonNode index = json(files.bytes("index.json"), "index.json");
        Manifests.Manifest top = Manifests.parse(files.bytes("index.json"), Manifests.OCI_INDEX);
        if (!(top instanceof Manifests.Index entries) || entries.manifests().isEmpty()) {
            throw new PullException("index.json lists no manifests");
        }
        Manifests.Descriptor chosen = choose(entries);
        List<String> references = new ArrayList<>();
        for (JsonNode entry : index.path("manifests")) {
            if (entry.path("digest").asString("").equals(chosen.digest().toString())) {
                for (String annotation : NAME_ANNOTATIONS) {
                    String name = entry.path("annotations").path(annotation).asString("");
                    if (name.contains(":") || name.contains("/")) {
                        addReference(references, name);
                    }
                }
            }
        }
        Manifests.Descriptor current = chosen;
        for (int depth = 0; ; depth++) {
            byte[] body = Files.readAllBytes(blob(files, current.digest()));
            switch (Manifests.parse(body, current.mediaType())) {
                case Manifests.ImageManifest manifest -> {
                    blob(files, manifest.config().digest());
                    for (Manifests.Descriptor layer : manifest.layers()) {
                        if (!layer.foreign()) {
                            blob(files, layer.digest());
                        }
                    }
                    return new Imported(current.digest(), manifest, references);
                }
                case Manifests.Index nested -> {
                    if (depth >= MAX_INDEX_DEPTH) {
                        throw new PullException("indexes nested more than " + MAX_INDEX_DEPTH + " deep");
                    }
                    current = choose(nested);
                }
            }
        }
    }

    /** The only entry, else the linux/amd64 one. */
    private static Manifests.Descriptor choose(Manifests.Index index) throws PullException {
        return index.manifests().size() == 1 ? index.manifests().getFirst().descriptor() : Manifests.selectLinuxAmd64(index);
    }

    /** Stores {@code blobs/sha256/HEX} of the layout and checks that its content has that digest. */
    private Path blob(Source files, Digest digest) throws PullException, IOException {
        String name = "blobs/" + digest.algorithm() + "/" + digest.hex();
        if (!files.exists(name)) {
            throw new PullException("blob " + digest + " is missing (" + name + ")");
        }
        Digest actual = files.store(name);
        if (!actual.equals(digest)) {
            throw new PullException("blob " + name + " failed verification: its content has digest " + actual);
        }
        return blobs.path(digest);
    }

    /** {@code manifest.json}: {@code [{"Config": NAME, "RepoTags": [...], "Layers": [NAME...]}]}; the first image is taken. */
    private Imported readDockerArchive(Source files) throws PullException, IOException {
        JsonNode images = json(files.bytes("manifest.json"), "manifest.json");
        if (!images.isArray() || images.isEmpty()) {
            throw new PullException("manifest.json lists no images");
        }
        JsonNode image = images.get(0);
        String configName = image.path("Config").asString("");
        if (configName.isEmpty() || !files.exists(configName)) {
            throw new PullException("manifest.json: the image config '" + configName + "' is missing");
        }
        Digest config = files.store(configName);
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", Manifests.DOCKER_MANIFEST);
        descriptor(manifest.putObject("config"), "application/vnd.docker.container.image.v1+json", config);
        var layers = manifest.putArray("layers");
        for (JsonNode layer : image.path("Layers")) {
            String name = layer.asString("");
            if (!files.exists(name)) {
                throw new PullException("manifest.json: the layer '" + name + "' is missing");
            }
            descriptor(layers.addObject(), "application/vnd.docker.image.rootfs.diff.tar", files.store(name));
        }
        byte[] body = JSON.writeValueAsBytes(manifest);
        Digest digest = Sha256.of(body);
        blobs.put(digest, body);
        if (!(Manifests.parse(body, Manifests.DOCKER_MANIFEST) instanceof Manifests.ImageManifest parsed)) {
            throw new IllegalStateException("a written image manifest parses as an index");
        }
        List<String> references = new ArrayList<>();
        for (JsonNode tag : image.path("RepoTags")) {
            addReference(references, tag.asString(""));
        }
        return new Imported(digest, parsed, references);
    }

    private void descriptor(ObjectNode node, String mediaType, Digest digest) throws IOException {
        node.put("mediaType", mediaType);
        node.put("size", Files.size(blobs.path(digest)));
        node.put("digest", digest.toString());
    }

    private static void addReference(List<String> references, String name) {
        try {
            String normalised = ImageReference.parse(name).toString();
            if (!references.contains(normalised)) {
                references.add(normalised);
            }
        } catch (IllegalArgumentException e) {
            // a name that is not a reference (a bare tag): not a local reference
        }
    }

    private static JsonNode json(byte[] body, String what) throws PullException {
        try {
            return JSON.readTree(body);
        } catch (JacksonException e) {
            throw new PullException(what + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Normalises a name inside a source: relative, {@code .} and empty components dropped, {@code ..} applied.
     *
     * @throws PullException if the name is absolute or its {@code ..}s climb above the source's root
     */
    private static String normalise(String name) throws PullException {
        List<String> parts = new ArrayList<>();
        if (name.startsWith("/")) {
            throw new PullException("'" + name + "' is an absolute name, which is not allowed in an image archive");
        }
        for (String part : name.split("/")) {
            if (part.equals("..")) {
                if (parts.isEmpty()) {
                    throw new PullException("'" + name + "' leads out of the image archive");
                }
                parts.removeLast();
            } else if (!part.isEmpty() && !part.equals(".")) {
                parts.add(part);
            }
        }
        return String.join("/", parts);
    }

    /** The files of an import source, by name. */
    private sealed interface Source permits DirectorySource, TarSource {
        boolean exists(String name) throws PullException, IOException;

        /** A small (JSON) file's content. */
        byte[] bytes(String name) throws PullException, IOException;

        /** Puts the file into the blob store; its digest. */
        Digest store(String name) throws PullException, IOException;
    }

    /** An extracted layout or archive. Symlinks inside it are followed only while they stay inside it. */
    private record DirectorySource(Path root, BlobStore blobs) implements Source {
        private Path resolve(String name) throws PullException, IOException {
            Path file = root.resolve(normalise(name));
            if (!Files.exists(file)) {
                return file;
            }
            Path real = file.toRealPath();
            if (!real.startsWith(root)) {
                throw new PullException("'" + name + "' leads out of " + root);
            }
            return real;
        }

        @Override
        public boolean exists(String name) throws PullException, IOException {
            return Files.isRegularFile(resolve(name));
        }

        @Override
        public byte[] bytes(String name) throws PullException, IOException {
            Path file = resolve(name);
            if (Files.size(file) > MAX_JSON_BYTES) {
                throw new PullException(name + " is larger than " + MAX_JSON_BYTES + " bytes");
            }
            return Files.readAllBytes(file);
        }

        @Override
        public Digest store(String name) throws PullException, IOException {
            try (InputStream in = Files.newInputStream(resolve(name))) {
                return blobs.writeUnnamed(in);
            }
        }
    }

    /**
     * A tar, read once: every regular file goes into the blob store as it streams past (the store is keyed by
     * content, so nothing is written twice); symlinks and hard links are resolved by name inside the archive.
     */
    private record TarSource(Map<String, Digest> files, Map<String, byte[]> small) implements Source {
        static TarSource read(Path tar, BlobStore blobs) throws PullException, IOException {
            Map<String, Digest> files = new HashMap<>();
            Map<String, byte[]> small = new HashMap<>();
            Map<String, String> links = new HashMap<>();
            try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(tar), 1 << 16);
                    TarArchiveInputStream entries = new TarArchiveInputStream(in, StandardCharsets.UTF_8.name())) {
                for (TarArchiveEntry entry; (entry = entries.getNextEntry()) != null; ) {
                    String name = normalise(entry.getName());
                    if (entry.isSymbolicLink()) {
                        String parent = name.contains("/") ? name.substring(0, name.lastIndexOf('/') + 1) : "";
                        String target = entry.getLinkName();
                        links.put(name, normalise(target.startsWith("/") ? target : parent + target));
                    } else if (entry.isLink()) {
                        links.put(name, normalise(entry.getLinkName()));
                    } else if (entry.isFile()) {
                        if (entry.getSize() <= MAX_JSON_BYTES && (name.endsWith(".json") || !name.contains("/"))) {
                            byte[] content = entries.readAllBytes();
                            small.put(name, content);
                            Digest digest = Sha256.of(content);
                            blobs.put(digest, content);
                            files.put(name, digest);
                        } else {
                            files.put(name, blobs.writeUnnamed(entries));
                        }
                    }
                }
            } catch (IOException e) {
                throw new PullException("reading the archive failed: " + e.getMessage(), e);
            }
            for (var link : links.entrySet()) {
                String target = link.getValue();
                for (int hops = 0; links.containsKey(target) && hops < 8; hops++) {
                    target = links.get(target);
                }
                if (files.containsKey(target)) {
                    files.put(link.getKey(), files.get(target));
                    if (small.containsKey(target)) {
                        small.put(link.getKey(), small.get(target));
                    }
                }
            }
            return new TarSource(files, small);
        }

        @Override
        public boolean exists(String name) throws PullException {
            return files.containsKey(normalise(name));
        }

        @Override
        public byte[] bytes(String name) throws PullException {
            byte[] content = small.get(normalise(name));
            if (content == null) {
                throw new PullException(name + " is missing or too large");
            }
            return content;
        }

        @Override
        public Digest store(String name) throws PullException {
            Digest digest = files.get(normalise(name));
            if (digest == null) {
                throw new PullException(name + " is missing from the archive");
            }
            return digest;
        }
    }
}
