package dev.bolero.oci;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns image references into bootable root drives under one data directory:
 * {@code DATA_DIR/blobs/sha256/<hex>} (verified blobs, manifests included), {@code DATA_DIR/images/<manifest digest
 * hex>/rootfs.ext4} (one drive per image digest, built once and reused), {@code DATA_DIR/tmp/} (unpacked trees while a
 * drive is built; removed afterwards, also on failure). Safe for concurrent use: concurrent pulls of one blob download
 * it once, concurrent prepares of one image build its drive once.
 */
public final class ImageStore {
    /** Free space added to a root drive beyond what the image's files need: 256 MiB. */
    public static final long DEFAULT_FREE_BYTES = 256L * 1024 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(ImageStore.class);
    private static final String DRIVE_FILE = "rootfs.ext4";
    private static final int MAX_INDEX_DEPTH = 2;

    private final Path images;
    private final Path tmp;
    private final long freeBytes;
    private final RegistryClient registry;
    private final BlobStore blobs;
    private final SingleFlight<Digest> builds = new SingleFlight<>();

    /** A store with {@link #DEFAULT_FREE_BYTES} of free space on each root drive. */
    public ImageStore(Path dataDir, RegistryConfig config) {
        this(dataDir, config, DEFAULT_FREE_BYTES);
    }

    /**
     * @param dataDir where blobs, drives and temporary trees live (created when first needed)
     * @param rootDriveFreeBytes free space each root drive gets beyond the image's files
     */
    public ImageStore(Path dataDir, RegistryConfig config, long rootDriveFreeBytes) {
        if (rootDriveFreeBytes < 0) {
            throw new IllegalArgumentException("rootDriveFreeBytes must not be negative: " + rootDriveFreeBytes);
        }
        this.images = dataDir.resolve("images");
        this.tmp = dataDir.resolve("tmp");
        this.freeBytes = rootDriveFreeBytes;
        this.registry = new RegistryClient(config);
        this.blobs = new BlobStore(dataDir);
    }

    /**
     * Resolves {@code reference} to its linux/amd64 image, pulls what is missing and returns its root drive, building
     * it if this store has not built it before. A reference by digest whose drive exists needs no registry.
     *
     * @throws OciException if the reference is invalid, the registry is unreachable or refuses, the image is not a
     *     linux/amd64 container image, a blob fails verification, a layer is malformed or tries to escape its root,
     *     or mkfs.ext4 fails; the message starts with {@code pull REFERENCE:}
     */
    public PreparedImage prepare(String reference) throws OciException {
        ImageReference image;
        try {
            image = ImageReference.parse(reference);
        } catch (IllegalArgumentException e) {
            throw new OciException("pull " + reference + ": " + e.getMessage(), e);
        }
        try {
            return prepare(image);
        } catch (PullException e) {
            throw new OciException("pull " + reference + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new OciException("pull " + reference + ": " + e, e);
        }
    }

    private PreparedImage prepare(ImageReference image) throws PullException, IOException {
        Resolved resolved = resolve(image);
        Manifests.Descriptor configDescriptor = resolved.manifest().config();
        Path configBlob = pullBlob(image, configDescriptor);
        byte[] configBytes = Files.readAllBytes(configBlob);
        ImageConfig config = Manifests.parseConfig(configBytes);
        Path drive = builds.run(resolved.digest(), () -> drive(image, resolved, configBytes));
        return new PreparedImage(image, resolved.digest(), config, drive, Files.size(drive));
    }

    /** An image manifest and its digest. */
    private record Resolved(Digest digest, Manifests.ImageManifest manifest) {}

    private Resolved resolve(ImageReference image) throws PullException, IOException {
        if (image.digest().isPresent() && blobs.contains(image.digest().get())) {
            Digest digest = image.digest().get();
            if (Manifests.parse(Files.readAllBytes(blobs.path(digest)), "") instanceof Manifests.ImageManifest m) {
                return new Resolved(digest, m);
            }
        }
        ManifestEndpoint endpoint = image.digest().map(ManifestEndpoint::byDigest)
                .orElseGet(() -> ManifestEndpoint.byTag(image.tag().orElseThrow()));
        for (int depth = 0; ; depth++) {
            ManifestEndpoint.Fetched fetched = registry.send(image, endpoint);
            blobs.put(fetched.digest(), fetched.body());
            switch (fetched.manifest()) {
                case Manifests.ImageManifest m -> {
                    return new Resolved(fetched.digest(), m);
                }
                case Manifests.Index index -> {
                    if (depth >= MAX_INDEX_DEPTH) {
                        throw new PullException("indexes nested more than " + MAX_INDEX_DEPTH + " deep");
                    }
                    endpoint = ManifestEndpoint.byDigest(Manifests.selectLinuxAmd64(index).digest());
                }
            }
        }
    }

    private Path pullBlob(ImageReference image, Manifests.Descriptor descriptor) throws PullException, IOException {
        OptionalLong size = descriptor.size() >= 0 ? OptionalLong.of(descriptor.size()) : OptionalLong.empty();
        return blobs.get(descriptor.digest(), () -> registry.send(image, new BlobEndpoint(blobs, descriptor.digest(), size)));
    }

    /** The image's drive: the existing one, or one built from its layers in a temporary tree. */
    private Path drive(ImageReference image, Resolved resolved, byte[] configBytes) throws PullException, IOException {
        Path dir = images.resolve(resolved.digest().hex());
        Path drive = dir.resolve(DRIVE_FILE);
        if (Files.isRegularFile(drive)) {
            return drive;
        }
        List<Manifests.Descriptor> layers = resolved.manifest().layers();
        List<Digest> diffIds = Manifests.diffIds(configBytes);
        if (diffIds.size() != layers.size()) {
            throw new PullException("the manifest has " + layers.size() + " layers but the image config " + diffIds.size() + " diff_ids");
        }
        List<Path> layerBlobs = pullLayers(image, layers);
        long started = System.nanoTime();
        Path work = null;
        Path staging = null;
        try {
            Files.createDirectories(tmp);
            Files.createDirectories(images);
            work = Files.createTempDirectory(tmp, "unpack-" + resolved.digest().hex().substring(0, 12) + "-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path tree = Files.createDirectory(work.resolve("rootfs"));
            Files.setAttribute(tree, "unix:mode", 0755);
            LayerUnpacker unpacker = new LayerUnpacker(tree, LayerUnpacker.runningAsRoot());
            for (int i = 0; i < layers.size(); i++) {
                try (InputStream in = Files.newInputStream(layerBlobs.get(i))) {
                    unpacker.apply(in, Optional.of(diffIds.get(i)));
                } catch (PullException | IOException e) {
                    throw new PullException("layer " + layers.get(i).digest() + ": " + e.getMessage(), e);
                }
            }
            staging = Files.createTempDirectory(images, ".tmp-" + resolved.digest().hex().substring(0, 12) + "-");
            long bytes = RootDriveBuilder.build(tree, staging.resolve(DRIVE_FILE), freeBytes);
            Files.setAttribute(staging, "unix:mode", 0755);
            try {
                Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
                staging = null;
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                LOG.debug("root drive of {} was built concurrently by another process", resolved.digest());
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("images directory " + images + " does not support atomic renames", e);
            }
            LOG.info("built root drive image={} digest={} layers={} bytes={} ms={}", image, resolved.digest(), layers.size(),
                    bytes, (System.nanoTime() - started) / 1_000_000);
            return drive;
        } catch (IOException e) {
            throw new PullException("building the root drive failed: " + e, e);
        } finally {
            deleteQuietly(work);
            deleteQuietly(staging);
        }
    }

    /** Pulls the layers concurrently (one virtual thread each); the first failure, in layer order, is thrown. */
    private List<Path> pullLayers(ImageReference image, List<Manifests.Descriptor> layers) throws PullException, IOException {
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Path>> futures = new ArrayList<>();
            for (Manifests.Descriptor layer : layers) {
                futures.add(executor.submit(() -> pullBlob(image, layer)));
            }
            List<Path> paths = new ArrayList<>();
            for (Future<Path> future : futures) {
                try {
                    paths.add(future.get());
                } catch (ExecutionException e) {
                    switch (e.getCause()) {
                        case PullException p -> throw new PullException(p.getMessage(), p);
                        case IOException io -> throw new IOException(io.getMessage(), io);
                        default -> { }
                    }
                    throw new IllegalStateException("pulling a layer failed unexpectedly", e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    futures.forEach(f -> f.cancel(true));
                    throw new PullException("interrupted while pulling layers", e);
                }
            }
            return paths;
        }
    }

    private static void deleteQuietly(Path path) {
        if (path == null) {
            return;
        }
        try {
            Trees.delete(path);
        } catch (IOException e) {
            LOG.warn("could not delete temporary {}: {}", path, e.toString());
        }
    }
}
