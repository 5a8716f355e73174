package dev.bolero.oci;

import dev.bolero.core.Digest;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * Builds a root drive straight from image layers, bottom first: each layer's entries become an in-memory tree whose
 * file data goes to the ext4 image as it streams in ({@link Ext4Writer}); {@link #finish} writes the metadata. The
 * rules are {@link LayerUnpacker}'s, on the tree instead of a directory: a layer is untrusted input, entry names are
 * resolved component by component, an absolute name, a {@code ..} component, a path through a symlink or a hard link
 * to a missing entry or outside the root fails the whole layer naming the entry; symlinks are stored as they are and
 * never followed; whiteouts ({@code .wh.NAME}) and opaque directories ({@code .wh..wh..opq}) hide what lower layers
 * made; a later entry replaces an earlier one of the same name (a directory over a directory merges). Files a later
 * layer removes leave their blocks as free space. Owners are the layer's (uid and gid as numbers), the root is 0:0
 * and 0755. The {@link ImageLimits} per image hold over all layers together: an entry that would take the image over
 * its entry count or unpacked bytes fails before anything of it is written; every block written is claimed from the
 * store's budget first. Not thread-safe: one build, one thread.
 */
final class DriveWriter implements Closeable {
    private final Ext4Writer image;
    private final Ext4Writer.Node root = new Ext4Writer.Node(Ext4Writer.S_IFDIR | 0755);
    private final long now = System.currentTimeMillis() / 1000;
    private final ImageLimits limits;
    private final StoreBudget.Claim claim;
    /** Entries and bytes of file content of all layers so far. */
    private long entries;
    private long unpacked;

    /**
     * Starts an image at {@code output}, which must not exist.
     *
     * @param claim what the drive's blocks are claimed from (the caller keeps or closes it)
     */
    DriveWriter(Path output, ImageLimits limits, StoreBudget.Claim claim) throws IOException {
        this.image = new Ext4Writer(output);
        this.limits = limits;
        this.claim = claim;
        root.mtime = now;
    }

    /**
     * Applies one layer (gzip, zstd or uncompressed tar, detected by magic bytes).
     *
     * @return the digest of the uncompressed tar (its diff_id)
     * @throws PullException naming the entry if the layer is malformed, tries to escape the root, or takes the image over
     *     a limit (naming the limit)
     */
    Digest apply(InputStream layer) throws PullException, IOException {
        Pass pass = new Pass();
        return LayerStream.read(layer, pass::apply);
    }

    /**
     * Writes the file system's metadata, sized for its files with headroom plus {@code freeBytes} of free space.
     *
     * @return the image's size in bytes
     */
    long finish(long freeBytes) throws PullException, IOException {
        long size = image.finish(root, freeBytes);
        claim.add(Math.max(0, image.allocatedBytes() - claim.claimed())); // the metadata, written by finish
        return size;
    }

    @Override
    public void close() throws IOException {
        image.close();
    }

    /** The state of applying one layer. */
    private final class Pass {
        /** Paths this layer created: whiteouts and opaque markers only hide what lower layers made. */
        private final Set<String> created = new HashSet<>();

        void apply(TarArchiveEntry entry, PaxTarInputStream content) throws PullException, IOException {
            String name = entry.getName();
            if (++entries > limits.maxImageEntries()) {
                throw new PullException("entry " + name + ": the image has more entries than the limit of " + limits.maxImageEntries()
                        + " per image");
            }
            List<String> components = LayerStream.components(name, name);
            if (components.isEmpty()) {
                return; // the root itself: 0:0 and 0755, whatever a layer says
            }
            String base = components.getLast();
            if (base.startsWith(LayerStream.WHITEOUT)) {
                whiteout(name, components);
                return;
            }
            if (base.getBytes(StandardCharsets.UTF_8).length > 255) {
                throw new PullException("entry " + name + " has a name longer than 255 bytes");
            }
            Ext4Writer.Node parent = parent(name, components, true).orElseThrow();
            String path = String.join("/", components);
            Ext4Writer.Node existing = parent.children.get(base);
            if (entry.isDirectory()) {
                Ext4Writer.Node dir = existing != null && existing.isDirectory() ? existing : new Ext4Writer.Node(Ext4Writer.S_IFDIR);
                parent.children.remove(base);
                parent.children.put(base, dir);
                created.add(path);
                setAttributes(dir, entry, content, Ext4Writer.S_IFDIR);
                return;
            }
            if (entry.isLink()) {
                Ext4Writer.Node target = hardLinkTarget(name, entry.getLinkName());
                String linkPath = String.join("/", LayerStream.components(entry.getLinkName(), name));
                if (linkPath.equals(path) || linkPath.startsWith(path + "/")) { // removed before it is linked to
                    throw new PullException("entry " + name + " is a hard link to " + entry.getLinkName() + ", which it replaces");
                }
                parent.children.remove(base);
                parent.children.put(base, target);
                created.add(path);
                return;
            }
            Ext4Writer.Node node;
            if (entry.isSymbolicLink()) {
                byte[] target;
                try {
                    target = entry.getLinkName().isEmpty() ? new byte[0] : Path.of(entry.getLinkName()).toString().getBytes(StandardCharsets.UTF_8);
                } catch (java.nio.file.InvalidPathException e) {
                    throw new PullException("entry " + name + " is a symlink to an invalid target", e);
                }
                if (target.length == 0 || target.length >= Ext4Writer.BLOCK) {
                    throw new PullException("entry " + name + " is a symlink to a target of " + target.length + " bytes");
                }
                node = new Ext4Writer.Node(Ext4Writer.S_IFLNK | 0777);
                node.symlink = target;
                node.size = target.length;
                if (target.length >= 60) {
                    node.extents = image.writeData(new java.io.ByteArrayInputStream(target), target.length);
                }
                setOwnerXattrsAndTime(node, entry, content);
            } else if (entry.isCharacterDevice() || entry.isBlockDevice() || entry.isFIFO()) {
                int type = entry.isFIFO() ? Ext4Writer.S_IFIFO : entry.isCharacterDevice() ? Ext4Writer.S_IFCHR : Ext4Writer.S_IFBLK;
                node = new Ext4Writer.Node(type);
                if (!entry.isFIFO()) {
                    node.major = entry.getDevMajor();
                    node.minor = entry.getDevMinor();
                }
                setAttributes(node, entry, content, type);
            } else if (entry.isFile()) { // after the special types: commons-compress calls most unknown types files
                node = new Ext4Writer.Node(Ext4Writer.S_IFREG);
                long size = entry.isSparse() ? entry.getRealSize() : entry.getSize();
                if (size > limits.maxImageBytes() - unpacked) {
                    throw new PullException("entry " + name + " (" + size + " bytes): the image's files would take more than the limit of "
                            + limits.maxImageBytes() + " bytes per image");
                }
                unpacked += size;
                claim.add((Math.max(0, size) + Ext4Writer.BLOCK - 1) / Ext4Writer.BLOCK * Ext4Writer.BLOCK);
                node.size = size;
                node.extents = image.writeData(content, size);
                setAttributes(node, entry, content, Ext4Writer.S_IFREG);
            } else {
                throw new PullException("entry " + name + " has unsupported type '" + (char) entry.getLinkFlag() + "'");
            }
            parent.children.remove(base);
            parent.children.put(base, node);
            created.add(path);
        }

        private void whiteout(String name, List<String> components) throws PullException {
            String base = components.getLast();
            String hidden = base.substring(LayerStream.WHITEOUT.length());
            if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
                throw new PullException("entry " + name + " is a whiteout of an invalid name");
            }
            Optional<Ext4Writer.Node> parent = parent(name, components, false);
            if (parent.isEmpty()) {
                return;
            }
            String prefix = components.size() == 1 ? "" : String.join("/", components.subList(0, components.size() - 1)) + "/";
            if (base.equals(LayerStream.OPAQUE)) {
                parent.get().children.keySet().removeIf(child -> !created.contains(prefix + child));
                return;
            }
            if (base.startsWith(LayerStream.WHITEOUT + LayerStream.WHITEOUT)) {
                return; // other AUFS metadata (.wh..wh.plnk and the like) carries nothing for us
            }
            if (!created.contains(prefix + hidden)) {
                parent.get().children.remove(hidden);
            }
        }

        /**
         * The directory an entry goes in, made of its components but the last: a symlink or a non-directory on the way
         * fails the layer. Missing directories are created (0755, root's, now) when {@code create} is set.
         */
        private Optional<Ext4Writer.Node> parent(String name, List<String> components, boolean create) throws PullException {
            Ext4Writer.Node current = root;
            StringBuilder path = new StringBuilder();
            for (String component : components.subList(0, components.size() - 1)) {
                path.append(path.isEmpty() ? "" : "/").append(component);
                Ext4Writer.Node next = current.children.get(component);
                if (next == null) {
                    if (!create) {
                        return Optional.empty();
                    }
                    if (component.getBytes(StandardCharsets.UTF_8).length > 255) {
                        throw new PullException("entry " + name + " has a name longer than 255 bytes");
                    }
                    next = new Ext4Writer.Node(Ext4Writer.S_IFDIR | 0755);
                    next.mtime = now;
                    current.children.put(component, next);
                    created.add(path.toString());
                } else if (next.type() == Ext4Writer.S_IFLNK) {
                    throw new PullException("entry " + name + " passes through the symlink " + path + ", which is not allowed");
                } else if (!next.isDirectory()) {
                    throw new PullException("entry " + name + ": " + path + " is not a directory");
                }
                current = next;
            }
            return Optional.of(current);
        }

        private Ext4Writer.Node hardLinkTarget(String name, String linkName) throws PullException {
            List<String> components = LayerStream.hardLinkComponents(name, linkName);
            Ext4Writer.Node target = parent(name, components, false).map(p -> p.children.get(components.getLast())).orElse(null);
            if (target == null) {
                throw new PullException("entry " + name + " is a hard link to " + linkName + ", which does not exist");
            }
            if (target.isDirectory()) {
                throw new PullException("entry " + name + " is a hard link to the directory " + linkName);
            }
            return target;
        }

        private void setAttributes(Ext4Writer.Node node, TarArchiveEntry entry, PaxTarInputStream content, int type) throws PullException {
            node.mode = type | (entry.getMode() & 07777);
            setOwnerXattrsAndTime(node, entry, content);
        }

        /** Owner, time, and the layer's attributes added to those the node has (as lsetxattr would). */
        private void setOwnerXattrsAndTime(Ext4Writer.Node node, TarArchiveEntry entry, PaxTarInputStream content) throws PullException {
            node.uid = entry.getLongUserId();
            node.gid = entry.getLongGroupId();
            FileTime time = entry.getLastModifiedTime();
            if (time != null) {
                node.mtime = time.toInstant().getEpochSecond();
                node.mtimeNanos = time.toInstant().getNano();
            }
            Map<String, byte[]> xattrs = LayerStream.xattrs(entry, content.paxHeaders());
            if (!xattrs.isEmpty()) {
                Map<String, byte[]> merged = new java.util.LinkedHashMap<>(node.xattrs);
                for (var xattr : xattrs.entrySet()) {
                    if (Ext4Xattrs.stored(xattr.getKey(), xattr.getValue(), node.type()).isPresent()) {
                        merged.put(xattr.getKey(), xattr.getValue());
                    }
                }
                node.xattrs = merged;
            }
        }
    }
}
