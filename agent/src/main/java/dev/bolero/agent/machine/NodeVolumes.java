package dev.bolero.agent.machine;

import dev.bolero.api.ApiException;
import dev.bolero.api.wire.NodeVolume;
import dev.bolero.api.wire.SnapshotCopyOrder;
import dev.bolero.api.wire.VolumeMoveOrder;
import dev.bolero.runtime.VmSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The volumes living on this node: one sparse file per volume, {@code DIR/<id>.ext4} ({@code 0600}, the directory
 * {@code 0700}), formatted with the host's {@code mkfs.ext4} when it is created (or copied from the snapshot it is
 * restored from), grown (never shrunk) when the volume grew, removed only when the volume is no longer listed
 * (deleted). A snapshot is a sparse copy {@code DIR/<snapshot id>.ext4} ({@code cp --sparse=always --reflink=auto}: a
 * reflink where the file system has them), made when it is first listed and removed once listed nowhere. Another node
 * may hold a copy of it: pulled in the move's block stream ({@link #receiveSnapshot}), kept under the same name. A
 * machine's data on a volume thus outlives the machine. The control plane decides which volumes live here ({@link #apply}); machines find theirs by namespace and
 * name ({@link #drive}). Thread-safe.
 */
public final class NodeVolumes {
    private static final Logger log = LoggerFactory.getLogger(NodeVolumes.class);
    private static final long GIB = 1024L * 1024 * 1024;
    private static final String SUFFIX = ".ext4";
    /** The copy of a volume moving here, until the control plane records it here. */
    private static final String INCOMING = ".incoming";

    private final Path dir;
    /** The volumes listed last, by namespace and name. */
    private final Map<List<String>, NodeVolume> listed = new ConcurrentHashMap<>();
    /** Why a listed volume's file could not be made here (a full disk, a failed mkfs), by namespace and name. */
    private final Map<List<String>, String> failures = new ConcurrentHashMap<>();
    /** The listed snapshots of volumes living here, by snapshot id: their volume (until taken). */
    private final Map<String, NodeVolume> untaken = new ConcurrentHashMap<>();
    /** Freezes a volume's file system in the running machine that mounts it while a snapshot of it is taken. */
    private volatile Freezer freezer = v -> () -> {};

    /** What freezes a volume's file system in the running machine mounting it, for a consistent copy. */
    public interface Freezer {
        /**
         * Freezes volume {@code v}'s file system in the running machine that mounts it, if one does.
         *
         * @return what thaws it (nothing to do when no running machine mounts it)
         * @throws IOException naming why a running machine mounting it could not freeze it
         */
        Frozen freeze(NodeVolume v) throws IOException;
    }

    /** A frozen file system; closing thaws it (a failure is the closer's to log). */
    public interface Frozen extends AutoCloseable {
        @Override
        void close();
    }
    /** The last pass this node sent of each volume moving away, by volume id (gone with the volume). */
    private final Map<String, Sent> moving = new ConcurrentHashMap<>();

    /** A pass sent of move {@code move}: its blocks' hashes, the next pass's {@code before}. */
    private record Sent(String move, byte[][] hashes) {}

    /** The volumes kept in {@code dir} (created if absent). */
    public NodeVolumes(Path dir) {
        this.dir = dir;
    }

    /**
     * Has snapshots of a volume attached to a running machine taken while {@code freezer} holds its file system
     * frozen (by default nothing is frozen: a copy of a volume in use would be torn).
     */
    public void freezeWith(Freezer freezer) {
        this.freezer = java.util.Objects.requireNonNull(freezer, "freezer");
    }

    /**
     * Makes the node's volumes exactly {@code wanted}: creates and formats the new ones, grows those whose size grew,
     * and removes the files of volumes absent from it. A volume that fails is logged and left as it was (tried again
     * at the next call); the others proceed.
     */
    public synchronized void apply(List<NodeVolume> wanted) {
        apply(wanted, List.of());
    }

    /**
     * As {@link #apply(List)}, keeping the incoming copies of the volumes moving here ({@code incoming}) and removing
     * those of moves no longer listed (failed) whose volume does not live here.
     */
    public synchronized void apply(List<NodeVolume> wanted, List<VolumeMoveOrder> incoming) {
        apply(wanted, incoming, List.of(), List.of());
    }

    /**
     * As {@link #apply(List, List)}, keeping too the files of the snapshots in {@code snapshots} (taken here of volumes
     * that live elsewhere now, or copies of snapshots taken elsewhere) and those the copies in {@code copies} are
     * making or made; the file of a snapshot listed nowhere is removed.
     *
     * @return the volumes whose file grew in this call (extended), for the machines that mount them
     */
    public synchronized List<NodeVolume> apply(List<NodeVolume> wanted, List<VolumeMoveOrder> incoming,
                                               List<String> snapshots, List<SnapshotCopyOrder> copies) {
        var keep = new HashSet<String>();
        for (VolumeMoveOrder order : incoming) keep.add(order.volumeId() + INCOMING);
        for (String snapshot : snapshots) keep.add(snapshot + SUFFIX);
        for (SnapshotCopyOrder copy : copies) {
            keep.add(copy.snapshotId() + INCOMING);
            keep.add(copy.snapshotId() + SUFFIX);
        }
        // Snapshots first: a volume restored in this same pass may start from one.
        untaken.clear();
        for (NodeVolume v : wanted) {
            keep.add(v.id() + SUFFIX);
            for (String snapshot : v.snapshots()) {
                keep.add(snapshot + SUFFIX);
                untaken.put(snapshot, v);
                take(snapshot);
            }
        }
        failures.clear();
        var grown = new java.util.ArrayList<NodeVolume>();
        for (NodeVolume v : wanted) {
            try {
                if (ensure(v)) grown.add(v);
                listed.put(List.of(v.namespace(), v.name()), v);
            } catch (IOException e) {
                failures.put(List.of(v.namespace(), v.name()), e.getMessage());
                log.warn("volume={} ({}/{}) {} GiB: {}", v.id(), v.namespace(), v.name(), v.sizeGb(), e.getMessage());
            }
        }
        listed.values().removeIf(v -> !keep.contains(v.id() + SUFFIX));
        moving.keySet().removeIf(id -> !keep.contains(id + SUFFIX));
        if (!Files.isDirectory(dir)) return grown;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "{vol,snap}_*{" + SUFFIX + "," + INCOMING
                + "}")) {
            for (Path f : files) {
                if (keep.contains(f.getFileName().toString())) continue;
                Files.deleteIfExists(f);
                log.info("volume file={} removed: its volume or snapshot was deleted, or its move ended",
                        f.getFileName());
            }
        } catch (IOException e) {
            log.warn("remove deleted volumes in {}: {}", dir, e.getMessage());
        }
        return grown;
    }

    /**
     * The drive of {@code namespace}'s volume {@code name} on this node: its file, and its id as the serial the guest
     * finds it by.
     *
     * @throws ApiException {@code failed_precondition} when the volume does not live here, or its file could not be
     *     made here (saying why: {@code No space left on device} for a full disk)
     */
    public VmSpec.Drive drive(String namespace, String name) {
        NodeVolume v = listed.get(List.of(namespace, name));
        Path f = v == null ? null : dir.resolve(v.id() + SUFFIX);
        String failure = failures.get(List.of(namespace, name));
        if (failure != null && (f == null || !Files.isRegularFile(f))) {
            throw ApiException.failedPrecondition("attach volume " + namespace + "/" + name + ": its file could not be made on "
                    + "this node: " + failure);
        }
        if (f == null || !Files.isRegularFile(f)) {
            throw ApiException.failedPrecondition("attach volume " + namespace + "/" + name + ": it does not live on "
                    + "this node");
        }
        return new VmSpec.Drive(f, v.id());
    }

    /**
     * Sends pass {@code pass} of move {@code move} of volume {@code volumeId}, which lives here: the blocks changed
     * since the pass before (all of them at the first, or when this node no longer knows the pass before). A snapshot
     * id as {@code volumeId} sends every block of that snapshot, taken here now if it is listed and not taken yet
     * ({@code move} then names the copy being made of it elsewhere).
     *
     * @throws ApiException {@code not_found} when the volume's or snapshot's file is not here
     * @throws IOException when it cannot be read or {@code out} written
     */
    public VolumeBlocks.Pass send(String volumeId, String move, int pass, OutputStream out) throws IOException {
        Path f = dir.resolve(volumeId + SUFFIX);
        if (volumeId.startsWith("snap_")) take(volumeId);
        if (!(volumeId.startsWith("vol_") || volumeId.startsWith("snap_")) || !Files.isRegularFile(f)) {
            throw ApiException.notFound("send volume " + volumeId + ": it does not live on this node");
        }
        Sent before = pass == 1 ? null : moving.get(volumeId);
        VolumeBlocks.Pass sent = VolumeBlocks.send(f, before == null || !before.move().equals(move) ? null
                : before.hashes(), out);
        if (volumeId.startsWith("vol_")) moving.put(volumeId, new Sent(move, sent.hashes())); // a snapshot has one pass
        log.info("volume={} move={} pass={} sent: {} data blocks ({} bytes), {} zero blocks, digest {}", volumeId,
                move, pass, sent.dataBlocks(), sent.bytes(), sent.zeroBlocks(), sent.digest());
        return sent;
    }

    /**
     * Applies pass {@code order.pass()} of a volume moving here, read from {@code in}, to its incoming copy (a new
     * sparse {@code 0600} file at the first pass) and verifies the copy against the source's digest. The copy becomes
     * the volume's file when the volume is next listed here ({@link #apply}); a copy whose move ends otherwise is
     * removed.
     *
     * @throws IOException when the pass cannot be applied or the copy does not match (the copy is then removed)
     */
    public VolumeBlocks.Pass receive(VolumeMoveOrder order, InputStream in) throws IOException {
        Path f = dir.resolve(order.volumeId() + INCOMING);
        VolumeBlocks.Pass received = receiveInto(f, order.pass() == 1, "pass " + order.pass() + " of volume "
                + order.volumeId(), in);
        log.info("volume={} move={} pass={} received and verified: {} blocks ({} bytes), digest {}",
                order.volumeId(), order.move(), order.pass(), received.blocks(), received.bytes(), received.digest());
        return received;
    }

    /**
     * Writes the copy of a snapshot taken on another node, read from {@code in}, to a new sparse {@code 0600} file,
     * verifies it against the source's digest and keeps it as the snapshot's file, which can then seed a volume here.
     *
     * @throws IOException when the copy cannot be written or does not match (nothing is then left)
     */
    public VolumeBlocks.Pass receiveSnapshot(SnapshotCopyOrder order, InputStream in) throws IOException {
        Path f = dir.resolve(order.snapshotId() + INCOMING);
        VolumeBlocks.Pass received = receiveInto(f, true, "snapshot " + order.snapshotId(), in);
        Files.move(f, dir.resolve(order.snapshotId() + SUFFIX), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        log.info("snapshot={} copy={} received and verified: {} blocks ({} bytes), digest {}", order.snapshotId(),
                order.copy(), received.blocks(), received.bytes(), received.digest());
        return received;
    }

    /**
     * Applies a block stream to {@code f}: a new file when {@code fresh}, else the copy of the passes before; removes
     * it when that fails.
     */
    private VolumeBlocks.Pass receiveInto(Path f, boolean fresh, String what, InputStream in) throws IOException {
        if (fresh) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            Files.deleteIfExists(f);
            Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else if (!Files.isRegularFile(f)) {
            throw new IOException("receive " + what + ": the copy of the passes before is not here");
        }
        try {
            return VolumeBlocks.receive(in, f, fresh);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(f);
            throw e;
        }
    }

    /**
     * Takes listed snapshot {@code snapshot} of a volume living here (a sparse copy of its file, made while the
     * file system is frozen in the running machine that mounts it, if any) unless it is taken already or its volume
     * has no file yet; a failure (the guest could not freeze) is logged and tried again at the next {@link #apply}.
     */
    private synchronized void take(String snapshot) {
        NodeVolume v = untaken.get(snapshot);
        Path copy = dir.resolve(snapshot + SUFFIX);
        if (v == null || Files.exists(copy) || !Files.exists(dir.resolve(v.id() + SUFFIX))) return;
        try (Frozen frozen = freezer.freeze(v)) {
            copyInto(dir.resolve(v.id() + SUFFIX), copy);
            untaken.remove(snapshot);
            log.info("volume={} snapshot={} taken", v.id(), snapshot);
        } catch (IOException e) {
            log.warn("volume={} snapshot={}: {}", v.id(), snapshot, e.getMessage());
        }
    }

    /** Makes volume {@code v}'s file here, or grows it; whether an existing file grew. */
    private boolean ensure(NodeVolume v) throws IOException {
        Path f = dir.resolve(v.id() + SUFFIX);
        long bytes = v.sizeGb() * GIB;
        Path arrived = dir.resolve(v.id() + INCOMING);
        if (!Files.exists(f) && Files.isRegularFile(arrived)) {
            Files.move(arrived, f, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            log.info("volume={} ({}/{}) moved here: its verified copy is its file now", v.id(), v.namespace(),
                    v.name());
        }
        if (Files.exists(f)) {
            if (Files.size(f) < bytes) {
                try (var raf = new RandomAccessFile(f.toFile(), "rw")) {
                    raf.setLength(bytes); // sparse: the new space reads as zeros and takes no room
                }
                log.info("volume={} grown to {} GiB", v.id(), v.sizeGb());
                return true;
            }
            return false;
        }
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path partial = dir.resolve(v.id() + ".partial");
        Files.deleteIfExists(partial);
        try {
            if (v.source() != null) {
                Path snapshot = dir.resolve(v.source() + SUFFIX);
                if (!Files.exists(snapshot)) throw new IOException("restore from snapshot " + v.source() + ": not here");
                copyInto(snapshot, partial);
            } else {
                Files.createFile(partial, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-------")));
            }
            try (var raf = new RandomAccessFile(partial.toFile(), "rw")) {
                raf.setLength(Math.max(bytes, raf.length())); // the guest grows the file system when it mounts it
            }
            if (v.source() == null) mkfs(partial, v);
            Files.move(partial, f, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(partial);
        }
        log.info("volume={} ({}/{}) created: {} GiB{}", v.id(), v.namespace(), v.name(), v.sizeGb(),
                v.source() == null ? "" : " from snapshot " + v.source());
        return false;
    }

    /** Formats {@code file} as ext4 with the host's mkfs.ext4: no reserved blocks (the space is the tenant's). */
    private static void mkfs(Path file, NodeVolume v) throws IOException {
        run("mkfs.ext4", "-q", "-F", "-m", "0", "-L", label(v.name()),
                "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard", file.toString());
    }

    /** Copies {@code from} to a new {@code 0600} file {@code to}, keeping holes (or sharing extents: a reflink). */
    private static void copyInto(Path from, Path to) throws IOException {
        Path partial = to.resolveSibling(to.getFileName() + ".partial");
        Files.deleteIfExists(partial);
        Files.createFile(partial, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            run("cp", "--sparse=always", "--reflink=auto", from.toString(), partial.toString());
            Files.move(partial, to, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    /** Runs a host tool to its end. @throws IOException naming the command when it fails or takes over 10 minutes */
    private static void run(String... command) throws IOException {
        String what = String.join(" ", command);
        var process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            process.getOutputStream().close();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!process.waitFor(10, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IOException(what + ": did not finish within 10 minutes");
            }
            if (process.exitValue() != 0) throw new IOException(what + ": exit " + process.exitValue() + ": " + out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IOException(what + ": interrupted", e);
        }
    }

    /** An ext4 label (at most 16 bytes) from a volume's name. */
    private static String label(String name) {
        return name.length() <= 16 ? name : name.substring(0, 16);
    }
}
