package dev.bolero.oci;

import dev.bolero.core.FileTrees;
import dev.bolero.core.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reference for {@link DriveWriter}: what Bolero did before it wrote drives directly, and what tests compare drives
 * with. Applies image layers, bottom first, to a root directory. A layer is untrusted input: no entry may create, modify or
 * follow anything outside the root. Entry names are resolved component by component without following symlinks; an
 * absolute name, a {@code ..} component, a path through a symlink or a hard link to outside the root fails the whole
 * layer, naming the entry. Symlinks are created as they are and never followed. Whiteouts ({@code .wh.NAME}) and
 * opaque directories ({@code .wh..wh..opq}) hide what lower layers put there.
 *
 * <p>Ownership is applied when running as root (the normal case for a node agent). Device nodes and FIFOs are made
 * with {@code mknod}; if that is refused (not root) they are skipped with a debug log.
 */
final class LayerUnpacker {
    private static final Logger LOG = LoggerFactory.getLogger(LayerUnpacker.class);
    private static final String WHITEOUT = LayerStream.WHITEOUT;
    private static final String OPAQUE = LayerStream.OPAQUE;
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    private static final int EPERM = 1;
    private static final int ENOTSUP = 95;
    private static final int EINVAL = 22;

    private final Path root;
    private final boolean preserveOwnership;

    LayerUnpacker(Path root, boolean preserveOwnership) {
        this.root = root;
        this.preserveOwnership = preserveOwnership;
    }

    /** Whether this process runs as root, judged by the owner of {@code /proc/self}. */
    static boolean runningAsRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * Applies one layer (gzip, zstd or uncompressed tar, detected by magic bytes).
     *
     * @param diffId the digest of the uncompressed tar, checked after the last entry, if known
     * @return the digest of the uncompressed tar (its diff_id)
     * @throws PullException naming the entry if the layer is malformed or tries to escape the root
     */
    Digest apply(InputStream layer, Optional<Digest> diffId) throws PullException, IOException {
        Pass pass = new Pass();
        Digest actual = LayerStream.read(layer, pass::apply);
        pass.finish();
        if (diffId.isPresent()) {
            LayerStream.checkDiffId(actual, diffId.get());
        }
        return actual;
    }

    /** The state of applying one layer. */
    private final class Pass {
        /** Paths this layer created: whiteouts and opaque markers only hide what lower layers made. */
        private final Set<Path> created = new HashSet<>();
        private final List<TarArchiveEntry> directoryTimes = new ArrayList<>();
        private final List<Path> directoryPaths = new ArrayList<>();
        /** Xattrs the file system of the root does not take (tmpfs before Linux 6.6 refuses user.*): warned once. */
        private int unsupportedXattrs;
        private String firstUnsupportedXattr;

        void apply(TarArchiveEntry entry, PaxTarInputStream content) throws PullException, IOException {
            String name = entry.getName();
            List<String> components = LayerStream.components(name, name);
            if (components.isEmpty()) {
                return; // the root itself: its owner and mode are the drive builder's business
            }
            String base = components.getLast();
            if (base.startsWith(WHITEOUT)) {
                whiteout(name, components);
                return;
            }
            Path parent = parent(name, components, true).orElseThrow();
            Path target = parent.resolve(base);
            if (entry.isDirectory()) {
                if (!isDirectory(target)) {
                    removeExisting(target);
                    Files.createDirectory(target);
                }
                created.add(target);
                setOwnerAndMode(target, entry);
                setXattrs(target, entry, content.paxHeaders());
                directoryTimes.add(entry);
                directoryPaths.add(target);
                return;
            }
            if (entry.isLink()) {
                Path existing = hardLinkTarget(name, entry.getLinkName());
                removeExisting(target);
                Files.createLink(target, existing);
                created.add(target);
                return;
            }
            removeExisting(target);
            if (entry.isSymbolicLink()) {
                Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
                setOwner(target, entry);
                setXattrs(target, entry, content.paxHeaders());
                setTime(target, entry.getLastModifiedTime());
            } else if (entry.isCharacterDevice() || entry.isBlockDevice() || entry.isFIFO()) {
                if (!makeNode(target, entry)) {
                    return;
                }
                setOwnerAndMode(target, entry);
                setXattrs(target, entry, content.paxHeaders());
                setTime(target, entry.getLastModifiedTime());
            } else if (entry.isFile()) { // after the special types: commons-compress calls most unknown types files
                try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, NOFOLLOW)) {
                    content.transferTo(out);
                }
                setOwnerAndMode(target, entry);
                setXattrs(target, entry, content.paxHeaders());
                setTime(target, entry.getLastModifiedTime());
            } else {
                throw new PullException("entry " + name + " has unsupported type '" + (char) entry.getLinkFlag() + "'");
            }
            created.add(target);
        }

        private void whiteout(String name, List<String> components) throws PullException, IOException {
            String base = components.getLast();
            String hidden = base.substring(WHITEOUT.length());
            if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
                throw new PullException("entry " + name + " is a whiteout of an invalid name");
            }
            Optional<Path> parent = parent(name, components, false);
            if (parent.isEmpty()) {
                return;
            }
            if (base.equals(OPAQUE)) {
                if (isDirectory(parent.get())) {
                    try (DirectoryStream<Path> children = Files.newDirectoryStream(parent.get())) {
                        for (Path child : children) {
                            if (!created.contains(child)) {
                                FileTrees.delete(child);
                            }
                        }
                    }
                }
                return;
            }
            if (base.startsWith(WHITEOUT + WHITEOUT)) {
                return; // other AUFS metadata (.wh..wh.plnk and the like) carries nothing for us
            }
            Path target = parent.get().resolve(hidden);
            if (!created.contains(target)) {
                FileTrees.delete(target);
            }
        }

        void finish() throws IOException {
            if (unsupportedXattrs > 0) {
                LOG.warn("{} extended attributes were not applied: the file system of {} does not support them (first: {})",
                        unsupportedXattrs, root, firstUnsupportedXattr);
            }
            for (int i = directoryPaths.size() - 1; i >= 0; i--) {
                if (stillADirectory(directoryPaths.get(i))) { // a later entry may have replaced it or a parent
                    setTime(directoryPaths.get(i), directoryTimes.get(i).getLastModifiedTime());
                }
            }
        }

        /**
         * Whether {@code path} is still a directory reached through directories alone: a later entry of the layer may
         * have replaced it, or one of its parents by a symbolic link (even a loop), and then it is not.
         */
        private boolean stillADirectory(Path path) throws IOException {
            Path current = root;
            for (Path component : root.relativize(path)) {
                current = current.resolve(component);
                if (!isDirectory(current)) return false;
            }
            return true;
        }

        /**
         * The directory an entry goes in, made of its components but the last, each checked with lstat: a symlink or a
         * non-directory on the way fails the layer. Missing directories are created when {@code create} is set.
         */
        private Optional<Path> parent(String name, List<String> components, boolean create) throws PullException, IOException {
            Path current = root;
            for (String component : components.subList(0, components.size() - 1)) {
                Path next = current.resolve(component);
                Optional<BasicFileAttributes> attributes = lstat(next);
                if (attributes.isEmpty()) {
                    if (!create) {
                        return Optional.empty();
                    }
                    Files.createDirectory(next);
                    created.add(next);
                } else if (attributes.get().isSymbolicLink()) {
                    throw new PullException("entry " + name + " passes through the symlink " + root.relativize(next)
                            + ", which is not allowed");
                } else if (!attributes.get().isDirectory()) {
                    throw new PullException("entry " + name + ": " + root.relativize(next) + " is not a directory");
                }
                current = next;
            }
            return Optional.of(current);
        }

        private Path hardLinkTarget(String name, String linkName) throws PullException, IOException {
            List<String> components = LayerStream.hardLinkComponents(name, linkName);
            Optional<Path> parent = parent(name, components, false);
            Path target = parent.map(p -> p.resolve(components.getLast())).orElse(null);
            Optional<BasicFileAttributes> attributes = target == null ? Optional.empty() : lstat(target);
            if (attributes.isEmpty()) {
                throw new PullException("entry " + name + " is a hard link to " + linkName + ", which does not exist");
            }
            if (attributes.get().isDirectory()) {
                throw new PullException("entry " + name + " is a hard link to the directory " + linkName);
            }
            return target;
        }

        private boolean makeNode(Path target, TarArchiveEntry entry) throws PullException, IOException {
            int type = entry.isFIFO() ? Posix.S_IFIFO : entry.isCharacterDevice() ? Posix.S_IFCHR : Posix.S_IFBLK;
            long device = entry.isFIFO() ? 0 : Posix.makedev(entry.getDevMajor(), entry.getDevMinor());
            int errno = Posix.mknod(target, type | (entry.getMode() & 07777), device);
            if (errno == EPERM) {
                LOG.debug("skipping device node {}: mknod not permitted", entry.getName());
                return false;
            }
            if (errno != 0) {
                throw new PullException("entry " + entry.getName() + ": mknod failed (errno " + errno + ")");
            }
            return true;
        }

        /**
         * chown, then chmod (chown clears setuid bits). The mode is set with a path-based chmod that follows links:
         * the JDK's no-follow variant opens the file, which blocks on a FIFO and has side effects on devices. This
         * is safe because {@code target} was just created by this pass, inside a parent checked to have no symlinks.
         */
        private void setOwnerAndMode(Path target, TarArchiveEntry entry) throws IOException {
            setOwner(target, entry);
            Files.setAttribute(target, "unix:mode", entry.getMode() & 07777);
        }

        /**
         * Applies the extended attributes a PAX header carries ({@code SCHILY.xattr.NAME}, GNU tar and Docker, the
         * value as stored; {@code LIBARCHIVE.xattr.NAME}, URL-encoded name and base64 value), byte-exact, binary values
         * (ACLs, file capabilities) included. Set with lsetxattr, which never follows a symlink. An attribute the file
         * system or this process may not set ({@code trusted.*} or {@code security.*} when not root, {@code user.*} on
         * a symlink or on a tmpfs before Linux 6.6) or the kernel rejects as malformed is skipped with a debug log, and
         * those the file system does not support are counted in one warning per layer; any other failure fails the layer.
         */
        private void setXattrs(Path target, TarArchiveEntry entry, Map<String, byte[]> paxHeaders) throws PullException, IOException {
            for (var xattr : LayerStream.xattrs(entry, paxHeaders).entrySet()) {
                String name = xattr.getKey();
                byte[] value = xattr.getValue();
                int errno = Posix.lsetxattr(target, name, value);
                if (errno == ENOTSUP && unsupportedXattrs++ == 0) {
                    firstUnsupportedXattr = name + " of " + entry.getName();
                }
                if (errno == EPERM || errno == ENOTSUP || errno == EINVAL) {
                    LOG.debug("skipping xattr {} of {}: errno {}", name, entry.getName(), errno);
                } else if (errno != 0) {
                    throw new PullException("entry " + entry.getName() + ": setting xattr " + name + " failed (errno " + errno + ")");
                }
            }
        }

        private void setOwner(Path target, TarArchiveEntry entry) throws IOException {
            if (preserveOwnership) {
                Files.setAttribute(target, "unix:uid", (int) entry.getLongUserId(), NOFOLLOW);
                Files.setAttribute(target, "unix:gid", (int) entry.getLongGroupId(), NOFOLLOW);
            }
        }
    }

    private static void removeExisting(Path target) throws IOException {
        if (lstat(target).isPresent()) {
            FileTrees.delete(target);
        }
    }

    private static boolean isDirectory(Path path) throws IOException {
        return lstat(path).map(BasicFileAttributes::isDirectory).orElse(false);
    }

    private static Optional<BasicFileAttributes> lstat(Path path) throws IOException {
        try {
            return Optional.of(Files.readAttributes(path, BasicFileAttributes.class, NOFOLLOW));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Sets the mtime with utimensat(AT_SYMLINK_NOFOLLOW): never follows a link, never opens the file. */
    private static void setTime(Path path, FileTime time) throws IOException {
        if (time != null) {
            java.time.Instant instant = time.toInstant();
            Posix.setModifiedTime(path, instant.getEpochSecond(), instant.getNano());
        }
    }
}
