package dev.bolero.oci;

import dev.bolero.core.FileTrees;
import dev.bolero.core.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns image references into bootable root drives under one data directory:
 * {@code DATA_DIR/blobs/sha256/<hex>} (verified blobs, manifests included), {@code DATA_DIR/images/<manifest digest
 * hex>/rootfs.ext4} (one drive per image digest, built once and reused, written by {@link DriveWriter} straight from
 * the layers: no unpacked tree, no mkfs), {@code DATA_DIR/images/.tmp-*} (a drive being built; removed on failure),
 * {@code DATA_DIR/tmp/} (deleted images on their way out). A layer not yet in the store is written into the drive
 * while it downloads, in the same pass as its verification; the next layers, the image config and the storing of the
 * manifest proceed meanwhile. An image directory appears (by one atomic rename) only once its drive is written and
 * synced and its manifest, config and layers are verified and durable in the blob store: a pull that fails, is
 * interrupted or crashes before leaves no image, only verified blobs and temporaries that garbage collection removes.
 * Nothing of a blob that fails verification is kept. Safe for concurrent use: concurrent pulls of one blob download
 * it once, concurrent prepares of one image build its drive once. Next to each drive, {@code image.json} records the
 * references the image was pulled as and when it was built. One store (one process) per data directory: garbage
 * collection assumes no other process writes there.
 *
 * <p>Layers and registries are untrusted: what one image may unpack to and what the store may hold are bounded by its
 * {@link ImageLimits} (a pull that would cross a limit stops before writing past it, naming the layer and the limit), a
 * registry must keep data coming ({@link RegistryConfig#readTimeout}), and a pull that fills the disk fails saying
 * the disk is full. Such a pull leaves what any failed pull leaves: verified blobs only.
 */
public final class ImageStore {
    /** Free space added to a root drive beyond what the image's files need: 256 MiB. */
    public static final long DEFAULT_FREE_BYTES = 256L * 1024 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(ImageStore.class);
    private static final String DRIVE_FILE = "rootfs.ext4";
    private static final String METADATA_FILE = "image.json";
    private static final String TEMP_PREFIX = ".tmp-";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int MAX_INDEX_DEPTH = 2;
    /** The most an image config (read whole) may weigh: 4 MiB, as a manifest. */
    private static final long MAX_CONFIG_BYTES = ManifestEndpoint.MAX_MANIFEST_BYTES;
    /** How the JDK words ENOSPC. */
    private static final String NO_SPACE = "No space left on device";

    private final Path dataDir;
    private final Path images;
    /** Temporaries: deleted images on their way out. */
    private final Path temporaries;
    private final long freeBytes;
    private final ImageLimits limits;
    private final StoreBudget budget;
    private final RegistryClient registry;
    private final BlobStore blobs;
    private final SingleFlight<Digest> builds = new SingleFlight<>();
    /** Pulls, builds and imports hold it shared; delete and garbage collection exclusively. */
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Object metadataLock = new Object();

    /** A store with {@link #DEFAULT_FREE_BYTES} of free space on each root drive and the default limits. */
    public ImageStore(Path dataDir, RegistryConfig config) {
        this(dataDir, config, DEFAULT_FREE_BYTES);
    }

    /** A store with the {@linkplain ImageLimits#defaults() default limits}. */
    public ImageStore(Path dataDir, RegistryConfig config, long rootDriveFreeBytes) {
        this(dataDir, config, rootDriveFreeBytes, ImageLimits.defaults());
    }

    /**
     * @param dataDir where blobs, drives and temporary trees live (created when first needed)
     * @param rootDriveFreeBytes free space each root drive gets beyond the image's files
     * @param limits what one image and the whole store may take; the store's bytes are counted here, on disk
     * @throws UncheckedIOException if what the store holds cannot be counted
     */
    public ImageStore(Path dataDir, RegistryConfig config, long rootDriveFreeBytes, ImageLimits limits) {
        if (rootDriveFreeBytes < 0) {
            throw new IllegalArgumentException("rootDriveFreeBytes must not be negative: " + rootDriveFreeBytes);
        }
        this.dataDir = dataDir;
        this.images = dataDir.resolve("images");
        this.temporaries = dataDir.resolve("tmp");
        this.freeBytes = rootDriveFreeBytes;
        this.limits = limits;
        this.budget = new StoreBudget(limits.storeBudgetBytes());
        this.registry = new RegistryClient(config);
        this.blobs = new BlobStore(dataDir, budget);
        try {
            budget.recount(diskBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("count the image store's bytes under " + dataDir + ": " + e, e);
        }
    }

    /** {@link #prepare(String, PullListener)} without a listener. */
    public PreparedImage prepare(String reference) throws OciException {
        return prepare(reference, PullListener.NONE);
    }

    /**
     * Resolves {@code reference} to its linux/amd64 image, pulls what is missing and returns its root drive, building
     * it if this store has not built it before. A reference by digest whose drive exists needs no registry; a
     * reference by tag that names an imported image resolves to it without a registry.
     *
     * @param listener told of layer progress and the drive build
     * @throws OciException if the reference is invalid, the registry is unreachable or refuses, the image is not a
     *     linux/amd64 container image, a blob fails verification, a layer is malformed or tries to escape its root,
     *     or the drive cannot be written; the message starts with {@code pull REFERENCE:}
     */
    public PreparedImage prepare(String reference, PullListener listener) throws OciException {
        ImageReference image;
        try {
            image = ImageReference.parse(reference);
        } catch (IllegalArgumentException e) {
            throw new OciException("pull " + reference + ": " + e.getMessage(), e);
        }
        return guarded("pull " + reference, () -> prepare(image, safe(listener)));
    }

    /**
     * Imports an image without a registry and builds its root drive: an OCI image layout (a directory, or a tar of
     * one) or a {@code docker save} archive (a tar, or a directory it was extracted to). The image's tags (Docker's
     * {@code RepoTags}, OCI's {@code org.opencontainers.image.ref.name} when it is a full reference) become local
     * references that {@link #prepare(String)} resolves without a registry; the image can always be named by digest
     * ({@code anything@sha256:…}). Of several images in one layout or archive, the linux/amd64 one is taken; of
     * several Docker images, the first.
     *
     * @throws OciException if the source is unreadable, malformed, its blobs do not match their names, or a layer
     *     fails as in {@link #prepare}; the message starts with {@code import SOURCE:}
     */
    public PreparedImage importImage(Path source) throws OciException {
        return guarded("import " + source, () -> {
            ImageImporter.Imported imported = new ImageImporter(blobs).read(source);
            Resolved resolved = new Resolved(imported.digest(), imported.manifest(), Optional.empty());
            ImageReference name = imported.references().isEmpty()
                    ? ImageReference.parse("import@" + imported.digest())
                    : ImageReference.parse(imported.references().getFirst());
            LayerSource local = descriptor -> {
                if (!blobs.contains(descriptor.digest())) {
                    throw new PullException("blob " + descriptor.digest() + " is not in the import");
                }
                return blobs.path(descriptor.digest());
            };
            PreparedImage prepared = prepare(name, resolved, local, PullListener.NONE, true);
            for (String reference : imported.references()) {
                remember(prepared.digest(), reference, true);
            }
            return prepared;
        });
    }

    /** The images whose drives are built, oldest first. */
    public List<StoredImage> list() throws OciException {
        List<StoredImage> out = new ArrayList<>();
        try {
            if (!Files.isDirectory(images)) {
                return out;
            }
            try (var dirs = Files.newDirectoryStream(images)) {
                for (Path dir : dirs) {
                    stored(dir).ifPresent(out::add);
                }
            }
        } catch (IOException e) {
            throw new OciException("list images in " + images + ": " + e, e);
        }
        out.sort(java.util.Comparator.comparing(StoredImage::builtAt));
        return out;
    }

    /** The stored image with this manifest digest, if its drive is built. */
    public Optional<StoredImage> find(Digest digest) throws OciException {
        try {
            return stored(images.resolve(digest.hex()));
        } catch (IOException e) {
            throw new OciException("read image " + digest + ": " + e, e);
        }
    }

    /**
     * Deletes an image's root drive and then collects garbage, waiting for pulls in progress to finish. Machines
     * already running from the drive keep their open file; callers must not delete an image a machine will start
     * from.
     *
     * @return whether the image was there
     * @throws OciException if the files cannot be removed
     */
    public boolean delete(Digest digest) throws OciException {
        Lock exclusive = lock.writeLock();
        exclusive.lock();
        try {
            Path dir = images.resolve(digest.hex());
            if (!Files.isDirectory(dir)) {
                return false;
            }
            Files.createDirectories(temporaries);
            Path doomed = temporaries.resolve("delete-" + digest.hex() + "-" + System.nanoTime());
            Files.move(dir, doomed, StandardCopyOption.ATOMIC_MOVE);
            FileTrees.delete(doomed);
            GcReport gc = collect();
            LOG.info("deleted image digest={} blobs={} bytes={}", digest, gc.blobs(), gc.bytes());
            return true;
        } catch (IOException e) {
            throw new OciException("delete image " + digest + ": " + e, e);
        } finally {
            exclusive.unlock();
        }
    }

    /**
     * Removes blobs no built image refers to (indexes, blobs of deleted images, blobs of failed pulls) and the
     * temporary files of interrupted pulls and builds, waiting for pulls in progress to finish.
     */
    public GcReport collectGarbage() throws OciException {
        Lock exclusive = lock.writeLock();
        exclusive.lock();
        try {
            GcReport report = collect();
            LOG.info("image garbage collection blobs={} bytes={} temporaries={}", report.blobs(), report.bytes(), report.temporaries());
            return report;
        } catch (IOException e) {
            throw new OciException("collect image garbage under " + images.getParent() + ": " + e, e);
        } finally {
            exclusive.unlock();
        }
    }

    private GcReport collect() throws IOException {
        Set<Digest> referenced = new HashSet<>();
        if (Files.isDirectory(images)) {
            try (var dirs = Files.newDirectoryStream(images)) {
                for (Path dir : dirs) {
                    String name = dir.getFileName().toString();
                    if (name.startsWith(".")) {
                        continue;
                    }
                    Digest manifest = Digest.of("sha256", name);
                    referenced.add(manifest);
                    if (blobs.contains(manifest)) {
                        try {
                            if (Manifests.parse(Files.readAllBytes(blobs.path(manifest)), "") instanceof Manifests.ImageManifest m) {
                                referenced.add(m.config().digest());
                                m.layers().forEach(l -> referenced.add(l.digest()));
                            }
                        } catch (PullException e) {
                            LOG.warn("manifest of image {} is unreadable, its blobs will be collected: {}", manifest, e.getMessage());
                        }
                    }
                }
            }
        }
        int removed = 0;
        long bytes = 0;
        for (Digest blob : blobs.list()) {
            if (!referenced.contains(blob)) {
                bytes += blobs.delete(blob);
                removed++;
            }
        }
        int temporaries = blobs.sweepTemporaryFiles();
        if (Files.isDirectory(images)) {
            try (var staging = Files.newDirectoryStream(images, TEMP_PREFIX + "*")) {
                for (Path dir : staging) {
                    FileTrees.delete(dir);
                    temporaries++;
                }
            }
        }
        if (Files.isDirectory(this.temporaries, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (var stale = Files.newDirectoryStream(this.temporaries)) {
                for (Path entry : stale) {
                    FileTrees.delete(entry);
                    temporaries++;
                }
            }
        }
        budget.recount(diskBytes());
        return new GcReport(removed, bytes, temporaries);
    }

    /**
     * The bytes the store holds on disk: its blobs, and its image directories with each drive counted at the blocks it
     * uses. Drives being built are counted at their full size (only an interrupted build leaves one).
     */
    private long diskBytes() throws IOException {
        long bytes = blobs.diskBytes();
        if (Files.isDirectory(images)) {
            try (var dirs = Files.newDirectoryStream(images)) {
                for (Path dir : dirs) {
                    if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        bytes += Files.size(dir);
                        continue;
                    }
                    try (var files = Files.newDirectoryStream(dir)) {
                        for (Path file : files) {
                            bytes += file.getFileName().toString().equals(DRIVE_FILE) ? Ext4Writer.usedBytes(file) : Files.size(file);
                        }
                    }
                }
            }
        }
        return bytes;
    }

    @FunctionalInterface
    private interface Work {
        PreparedImage run() throws PullException, IOException;
    }

    /** Runs {@code work} holding the shared lock, turning its failures into OciExceptions that start with {@code action}. */
    private PreparedImage guarded(String action, Work work) throws OciException {
        Lock shared = lock.readLock();
        shared.lock();
        try {
            return work.run();
        } catch (PullException e) {
            throw new OciException(action + ": " + diskFull(e).orElse(e.getMessage()), e);
        } catch (IOException e) {
            throw new OciException(action + ": " + diskFull(e).orElse(PullIOException.describe(e)), e);
        } catch (IllegalArgumentException e) {
            throw new OciException(action + ": " + e.getMessage(), e);
        } finally {
            shared.unlock();
        }
    }

    /**
     * What to say of a failure caused by the disk under the data directory running out of space (ENOSPC, which Java
     * reports only in a message): that the disk is full, then what failed.
     */
    private Optional<String> diskFull(Exception failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof IOException && String.valueOf(t.getMessage()).contains(NO_SPACE)) {
                return Optional.of("the disk holding " + dataDir + " is full (" + NO_SPACE + "): " + failure.getMessage());
            }
        }
        return Optional.empty();
    }

    private static PullListener safe(PullListener listener) {
        return event -> {
            try {
                listener.on(event);
            } catch (RuntimeException e) {
                LOG.warn("pull listener failed on {}: {}", event, e.toString());
            }
        };
    }

    private PreparedImage prepare(ImageReference image, PullListener listener) throws PullException, IOException {
        long started = System.nanoTime();
        Resolved resolved = resolve(image);
        long resolvedAt = System.nanoTime();
        LayerSource remote = new LayerSource() {
            @Override
            public Path get(Manifests.Descriptor layer) throws PullException, IOException {
                return pullLayer(image, layer, listener, Optional.empty());
            }

            @Override
            public void read(Manifests.Descriptor layer, BlobStore.Reader reader) throws PullException, IOException {
                if (blobs.contains(layer.digest())) {
                    LayerSource.super.read(layer, reader);
                } else {
                    pullLayer(image, layer, listener, Optional.of(reader));
                }
            }
        };
        PreparedImage prepared = prepare(image, resolved, remote, listener, false);
        long preparedAt = System.nanoTime();
        remember(prepared.digest(), image.toString(), false);
        LOG.info("pulled image={} digest={} ms={} resolve_ms={} prepare_ms={} remember_ms={}", image, prepared.digest(),
                ms(System.nanoTime() - started), ms(resolvedAt - started), ms(preparedAt - resolvedAt), ms(System.nanoTime() - preparedAt));
        return prepared;
    }

    /**
     * Stores the image's manifest and pulls its config while the layers download and the drive is written (one virtual
     * thread each): the drive waits for both, stored and verified, before it is moved into place.
     */
    private PreparedImage prepare(ImageReference image, Resolved resolved, LayerSource layers, PullListener listener,
            boolean imported) throws PullException, IOException {
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<Path> manifestStored = executor.submit(() -> {
                if (resolved.unstored().isPresent()) {
                    blobs.put(resolved.digest(), resolved.unstored().get());
                }
                return blobs.path(resolved.digest());
            });
            Future<byte[]> configPulled = executor.submit(() -> Files.readAllBytes(pullConfig(image, resolved.manifest().config(), imported)));
            try {
                Awaited<byte[]> config = () -> {
                    await(manifestStored);
                    return await(configPulled);
                };
                Path drive = builds.run(resolved.digest(), () -> drive(image, resolved, config, layers, listener, imported));
                return new PreparedImage(image, resolved.digest(), Manifests.parseConfig(config.get()), drive, Files.size(drive));
            } finally {
                manifestStored.cancel(true);
                configPulled.cancel(true);
            }
        }
    }

    /** A result computed elsewhere, waited for. */
    @FunctionalInterface
    private interface Awaited<T> {
        T get() throws PullException, IOException;
    }

    private Path pullConfig(ImageReference image, Manifests.Descriptor descriptor, boolean imported) throws PullException, IOException {
        if (imported) {
            if (!blobs.contains(descriptor.digest())) {
                throw new PullException("the image config " + descriptor.digest() + " is not in the import");
            }
            return blobs.path(descriptor.digest());
        }
        // read whole into memory: a hostile registry's endless or huge config must not get that far
        if (descriptor.size() < 0) {
            throw new PullException("the image config " + descriptor.digest() + " has no size in the manifest");
        }
        if (descriptor.size() > MAX_CONFIG_BYTES) {
            throw new PullException("the image config " + descriptor.digest() + " is " + descriptor.size() + " bytes, more than the limit of "
                    + MAX_CONFIG_BYTES + " bytes");
        }
        return pullBlob(image, descriptor, bytes -> { });
    }

    /** Where a layer's blob comes from: the registry, or an import already in the store. */
    @FunctionalInterface
    private interface LayerSource {
        /** The layer's blob, in the store. */
        Path get(Manifests.Descriptor layer) throws PullException, IOException;

        /**
         * Gives the layer's content to {@code reader}: a blob not yet in the store as it downloads (then what the reader
         * made is provisional until this returns: the blob is verified at its end and kept only if it checks out).
         */
        default void read(Manifests.Descriptor layer, BlobStore.Reader reader) throws PullException, IOException {
            try (InputStream in = Files.newInputStream(get(layer))) {
                reader.read(in);
            }
        }
    }

    /** An image manifest and its digest; {@code unstored}: its bytes, when they still have to be stored. */
    private record Resolved(Digest digest, Manifests.ImageManifest manifest, Optional<byte[]> unstored) {}

    private Resolved resolve(ImageReference image) throws PullException, IOException {
        Optional<Digest> known = image.digest().or(() -> importedAs(image.toString()));
        if (known.isPresent() && blobs.contains(known.get())) {
            Digest digest = known.get();
            if (Manifests.parse(Files.readAllBytes(blobs.path(digest)), "") instanceof Manifests.ImageManifest m) {
                return new Resolved(digest, m, Optional.empty());
            }
        }
        ManifestEndpoint endpoint = image.digest().map(ManifestEndpoint::byDigest)
                .orElseGet(() -> ManifestEndpoint.byTag(image.tag().orElseThrow()));
        for (int depth = 0; ; depth++) {
            ManifestEndpoint.Fetched fetched = registry.send(image, endpoint);
            switch (fetched.manifest()) {
                case Manifests.ImageManifest m -> {
                    return new Resolved(fetched.digest(), m, Optional.of(fetched.body()));
                }
                case Manifests.Index index -> {
                    blobs.put(fetched.digest(), fetched.body());
                    if (depth >= MAX_INDEX_DEPTH) {
                        throw new PullException("indexes nested more than " + MAX_INDEX_DEPTH + " deep");
                    }
                    endpoint = ManifestEndpoint.byDigest(Manifests.selectLinuxAmd64(index).digest());
                }
            }
        }
    }

    private Path pullBlob(ImageReference image, Manifests.Descriptor descriptor, java.util.function.LongConsumer progress)
            throws PullException, IOException {
        OptionalLong size = descriptor.size() >= 0 ? OptionalLong.of(descriptor.size()) : OptionalLong.empty();
        return blobs.get(descriptor.digest(),
                () -> registry.send(image, new BlobEndpoint(blobs, descriptor.digest(), size, progress, content -> { })));
    }

    /**
     * Gets a layer into the store. With a reader, the layer is downloaded whether stored or not, and read as it
     * streams in, bypassing the sharing of concurrent downloads of one blob (the reader must see every byte).
     */
    private Path pullLayer(ImageReference image, Manifests.Descriptor layer, PullListener listener, Optional<BlobStore.Reader> reader)
            throws PullException, IOException {
        if (reader.isEmpty() && blobs.contains(layer.digest())) {
            listener.on(new PullEvent.LayerProgress(layer.digest(), Math.max(0, layer.size()), layer.size(), true, true));
            return blobs.path(layer.digest());
        }
        listener.on(new PullEvent.LayerProgress(layer.digest(), 0, layer.size(), false, false));
        java.util.function.LongConsumer progress = bytes -> listener.on(new PullEvent.LayerProgress(layer.digest(), bytes, layer.size(), false, false));
        OptionalLong size = layer.size() >= 0 ? OptionalLong.of(layer.size()) : OptionalLong.empty();
        Path path = reader.isPresent()
                ? registry.send(image, new BlobEndpoint(blobs, layer.digest(), size, progress, reader.get()))
                : pullBlob(image, layer, progress);
        listener.on(new PullEvent.LayerProgress(layer.digest(), Files.size(path), layer.size(), true, false));
        return path;
    }

    /** The image's drive: the existing one, or one built from its layers in a temporary tree. */
    private Path drive(ImageReference image, Resolved resolved, Awaited<byte[]> config, LayerSource source, PullListener listener,
            boolean imported) throws PullException, IOException {
        Path dir = images.resolve(resolved.digest().hex());
        Path drive = dir.resolve(DRIVE_FILE);
        if (Files.isRegularFile(drive)) {
            return drive;
        }
        List<Manifests.Descriptor> allLayers = resolved.manifest().layers();
        List<Manifests.Descriptor> layers = new ArrayList<>();
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < allLayers.size(); i++) {
            if (allLayers.get(i).foreign()) {
                LOG.info("skipping foreign layer image={} layer={} mediaType={}", image, allLayers.get(i).digest(),
                        allLayers.get(i).mediaType());
            } else {
                layers.add(allLayers.get(i));
                kept.add(i);
            }
        }
        Awaited<List<Digest>> diffIds = () -> {
            List<Digest> all = Manifests.diffIds(config.get());
            if (all.size() != allLayers.size()) {
                throw new PullException("the manifest has " + allLayers.size() + " layers but the image config " + all.size() + " diff_ids");
            }
            return kept.stream().map(all::get).toList();
        };
        listener.on(new PullEvent.BuildingDrive(resolved.digest(), layers.size()));
        long started = System.nanoTime();
        Path staging = null;
        try (StoreBudget.Claim claim = budget.claim("the root drive")) {
            Files.createDirectories(images);
            staging = Files.createTempDirectory(images, TEMP_PREFIX + resolved.digest().hex().substring(0, 12) + "-");
            long bytes;
            long written;
            long[] layersWritten = new long[1];
            try (DriveWriter writer = new DriveWriter(staging.resolve(DRIVE_FILE), limits, claim)) {
                bytes = write(layers, diffIds, source, writer, () -> {
                    layersWritten[0] = System.nanoTime();
                    return writer.finish(freeBytes);
                });
            }
            written = layersWritten[0];
            long finished = System.nanoTime();
            writeMetadata(staging, new LinkedHashSet<>(), Instant.now(), imported);
            Files.setAttribute(staging, "unix:mode", 0755);
            try {
                Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
                staging = null;
                claim.keep();
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                LOG.debug("root drive of {} was built concurrently by another process", resolved.digest());
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("images directory " + images + " does not support atomic renames", e);
            }
            LOG.info("built root drive image={} digest={} layers={} bytes={} ms={} layers_ms={} finish_ms={} commit_ms={}", image,
                    resolved.digest(), layers.size(), bytes, ms(System.nanoTime() - started), ms(written - started),
                    ms(finished - written), ms(System.nanoTime() - finished));
            return drive;
        } catch (IOException e) {
            throw new PullException("building the root drive failed: " + PullIOException.describe(e), e);
        } finally {
            deleteQuietly(staging);
        }
    }

    /** The digest of the imported image that has {@code reference} as a local tag, if any. */
    private Optional<Digest> importedAs(String reference) {
        try {
            return list().stream().filter(i -> i.imported() && i.references().contains(reference)).map(StoredImage::digest).findFirst();
        } catch (OciException e) {
            LOG.warn("cannot look up local tags: {}", e.getMessage());
            return Optional.empty();
        }
    }

    /** Adds {@code reference} to the image's recorded references. */
    private void remember(Digest digest, String reference, boolean imported) throws IOException {
        synchronized (metadataLock) {
            Path dir = images.resolve(digest.hex());
            Optional<StoredImage> stored = stored(dir);
            if (stored.isEmpty() || stored.get().references().contains(reference)) {
                return;
            }
            if (imported) {
                for (StoredImage other : list0()) {
                    if (!other.digest().equals(digest) && other.imported() && other.references().contains(reference)) {
                        Set<String> rest = new LinkedHashSet<>(other.references());
                        rest.remove(reference);
                        writeMetadata(images.resolve(other.digest().hex()), rest, other.builtAt(), true);
                    }
                }
            }
            Set<String> references = new LinkedHashSet<>(stored.get().references());
            references.add(reference);
            writeMetadata(dir, references, stored.get().builtAt(), stored.get().imported() || imported);
        }
    }

    private List<StoredImage> list0() throws IOException {
        try {
            return list();
        } catch (OciException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static void writeMetadata(Path dir, Set<String> references, Instant builtAt, boolean imported) throws IOException {
        ObjectNode node = JSON.createObjectNode();
        references.forEach(node.putArray("references")::add);
        if (references.isEmpty()) {
            node.putArray("references");
        }
        node.put("built_at", builtAt.toString());
        node.put("imported", imported);
        Path temp = dir.resolve(METADATA_FILE + ".tmp");
        try {
            Files.write(temp, JSON.writeValueAsBytes(node));
            Files.move(temp, dir.resolve(METADATA_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp); // left only by a failed write (a full disk)
        }
    }

    /** The image built in {@code dir}, if {@code dir} is a complete image directory. */
    private static Optional<StoredImage> stored(Path dir) throws IOException {
        String name = dir.getFileName().toString();
        Path drive = dir.resolve(DRIVE_FILE);
        if (name.startsWith(".") || !Files.isRegularFile(drive)) {
            return Optional.empty();
        }
        Digest digest;
        try {
            digest = Digest.of("sha256", name);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        List<String> references = new ArrayList<>();
        Instant builtAt = Files.getLastModifiedTime(drive).toInstant();
        boolean imported = false;
        Path metadata = dir.resolve(METADATA_FILE);
        if (Files.isRegularFile(metadata)) {
            try {
                JsonNode node = JSON.readTree(Files.readAllBytes(metadata));
                node.path("references").forEach(r -> references.add(r.asString("")));
                builtAt = Instant.parse(node.path("built_at").asString(builtAt.toString()));
                imported = node.path("imported").asBoolean(false);
            } catch (RuntimeException e) {
                LOG.warn("ignoring unreadable {}: {}", metadata, e.toString());
            }
        }
        return Optional.of(new StoredImage(digest, references, imported, drive, Files.size(drive), builtAt));
    }

    /**
     * Writes the layers in order, then {@code finish}es the drive, and returns what {@code finish} returned. The first
     * layer is written as it downloads, the others from the store, downloaded concurrently (one virtual thread each)
     * while the first is written; the first layer's verification and storing end while the next layers are written and
     * the drive is finished, and are waited for before this returns. The image config ({@code diffIds}) is waited for
     * once the first layer is written. The first failure, in layer order, is thrown: a layer whose blob fails its own
     * digest says so before any later layer's failure.
     */
    private static long write(List<Manifests.Descriptor> layers, Awaited<List<Digest>> diffIds, LayerSource source, DriveWriter writer,
            Awaited<Long> finish) throws PullException, IOException {
        if (layers.isEmpty()) {
            diffIds.get();
            return finish.get();
        }
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<Digest> firstWritten = new CompletableFuture<>();
            Future<Void> first = executor.submit(() -> {
                try {
                    source.read(layers.getFirst(), in -> firstWritten.complete(apply(layers.getFirst(), writer, in)));
                    return null;
                } finally {
                    firstWritten.completeExceptionally(new IllegalStateException("the first layer was not written"));
                }
            });
            List<Future<Path>> later = new ArrayList<>();
            for (Manifests.Descriptor layer : layers.subList(1, layers.size())) {
                later.add(executor.submit(() -> source.get(layer)));
            }
            try {
                Digest firstDiffId;
                try {
                    firstDiffId = firstWritten.get();
                } catch (ExecutionException e) {
                    await(first); // throws the first layer's failure
                    throw new IllegalStateException("the first layer was not written", e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new PullException("interrupted while pulling layers", e);
                }
                long result;
                List<Digest> expected;
                try {
                    expected = diffIds.get();
                    for (int i = 1; i < layers.size(); i++) {
                        try (InputStream in = Files.newInputStream(await(later.get(i - 1)))) {
                            checkDiffId(layers.get(i), apply(layers.get(i), writer, in), expected.get(i));
                        }
                    }
                    result = finish.get();
                } catch (PullException | IOException | RuntimeException e) {
                    await(first); // the first layer's own failure comes first
                    throw e;
                }
                await(first);
                checkDiffId(layers.getFirst(), firstDiffId, expected.getFirst());
                return result;
            } finally {
                first.cancel(true);
                later.forEach(f -> f.cancel(true));
            }
        }
    }

    private static Digest apply(Manifests.Descriptor layer, DriveWriter writer, InputStream in) throws PullException {
        try {
            return writer.apply(in);
        } catch (PullException | IOException e) {
            throw new PullException("layer " + layer.digest() + ": " + e.getMessage(), e);
        }
    }

    /** Checked once the blob is verified: a blob that fails its own digest says so first. */
    private static void checkDiffId(Manifests.Descriptor layer, Digest actual, Digest expected) throws PullException {
        try {
            LayerStream.checkDiffId(actual, expected);
        } catch (PullException e) {
            throw new PullException("layer " + layer.digest() + ": " + e.getMessage(), e);
        }
    }

    private static <T> T await(Future<T> download) throws PullException, IOException {
        try {
            return download.get();
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case PullException p -> throw new PullException(p.getMessage(), p);
                case IOException io -> throw new IOException(io.getMessage(), io);
                default -> throw new IllegalStateException("pulling a layer failed unexpectedly", e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PullException("interrupted while pulling layers", e);
        }
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }

    private static void deleteQuietly(Path path) {
        if (path == null) {
            return;
        }
        try {
            FileTrees.delete(path);
        } catch (IOException e) {
            LOG.warn("could not delete temporary {}: {}", path, e.toString());
        }
    }
}
