package dev.bolero.oci;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes an ext4 file system image without a directory tree or mkfs in between: file data goes to blocks as it streams
 * in ({@link #writeData}), into a sparse file; the tree of {@link Node}s, inode tables, directories, extent trees,
 * extended attribute blocks, bitmaps, group descriptors and superblocks are written by {@link #finish}, after the data.
 *
 * <p>The format is what {@code mkfs.ext4 -O ^has_journal,^metadata_csum,^resize_inode} makes: 4 KiB blocks, 256-byte
 * inodes, extents, flex_bg (bitmaps and inode tables after the data), sparse_super (superblock backups in groups 0, 1
 * and powers of 3, 5 and 7, each with room for {@value #MAX_GDT_BLOCKS} descriptor blocks, which bounds the file system
 * to {@value #MAX_GDT_BLOCKS} × 128 groups of 128 MiB), 32-byte group descriptors, filetype, large_file, dir_nlink,
 * linear directories, no reserved blocks, no journal, no checksums. The kernel grows it online by converting it to
 * meta_bg, as it does any ext4 without a resize inode.
 */
final class Ext4Writer implements Closeable {
    static final int BLOCK = 4096;
    static final int BLOCKS_PER_GROUP = 32768;
    static final int MAX_GDT_BLOCKS = 16;
    /** Blocks kept at the start of every group that holds a superblock: the superblock and the descriptor room. */
    private static final int SUPER_AREA = 1 + MAX_GDT_BLOCKS;
    private static final int INODE_SIZE = 256;
    private static final int INODES_PER_BLOCK = BLOCK / INODE_SIZE;
    private static final int DESCRIPTOR_SIZE = 32;
    /** The most a drive holds: as many groups as {@value #MAX_GDT_BLOCKS} descriptor blocks describe (256 GiB). */
    private static final long MAX_BYTES = (long) MAX_GDT_BLOCKS * (BLOCK / DESCRIPTOR_SIZE) * BLOCKS_PER_GROUP * BLOCK;
    private static final int MAX_EXTENT = 32768;
    private static final int EXTENTS_IN_INODE = 4;
    private static final int EXTENTS_PER_LEAF = (BLOCK - 12) / 12;
    private static final int ROOT_INO = 2;
    private static final int LOST_FOUND_INO = 11;
    private static final int FIRST_INO = 11;
    private static final int MAX_LINKS = 65000;
    private static final int EXTENTS_FL = 0x80000;
    private static final int BUFFER = 1 << 20;

    static final int S_IFMT = 0170000;
    static final int S_IFSOCK = 0140000;
    static final int S_IFLNK = 0120000;
    static final int S_IFREG = 0100000;
    static final int S_IFBLK = 0060000;
    static final int S_IFDIR = 0040000;
    static final int S_IFCHR = 0020000;
    static final int S_IFIFO = 0010000;

    /**
     * A file, directory, symlink or special file of the image: the inode, and for a directory its entries. One node
     * under several names is a hard link. Fields are set by the layer logic; {@link #finish} numbers the nodes.
     */
    static final class Node {
        int mode;
        long uid;
        long gid;
        long mtime;
        int mtimeNanos;
        long size;
        /** Data extents, each {@code start << 16 | length}, in file order. */
        long[] extents = new long[0];
        byte[] symlink;
        int major;
        int minor;
        /** Extended attributes by full name, as the layer gave them. */
        Map<String, byte[]> xattrs = Map.of();
        /** Entries of a directory, in the order they were made; null for anything else. */
        LinkedHashMap<String, Node> children;
        private int ino;
        private int links;
        private int parentIno;
        private long[] leaves = new long[0];
        private long xattrBlock;

        Node(int mode) {
            this.mode = mode;
            if ((mode & S_IFMT) == S_IFDIR) {
                children = new LinkedHashMap<>();
            }
        }

        boolean isDirectory() {
            return (mode & S_IFMT) == S_IFDIR;
        }

        int type() {
            return mode & S_IFMT;
        }
    }

    private final Path output;
    /** Data: direct I/O where the file system allows. */
    private final FileChannel channel;
    /** Metadata, many small writes at the end: through the page cache, flushed once by the final fsync. */
    private FileChannel metadata;
    /** Where data collects before it is written: whole blocks, written at block offsets. */
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER);
    /** The block-aligned buffer writes go through (O_DIRECT needs one). */
    private final ByteBuffer aligned = ByteBuffer.allocateDirect(BUFFER + BLOCK).alignedSlice(BLOCK);
    /** The block the buffer's first byte goes to. */
    private long bufferBlock;
    /** The next block to allocate. */
    private long cursor = SUPER_AREA;
    private final long now = System.currentTimeMillis() / 1000;

    Ext4Writer(Path output) throws IOException {
        this.output = output;
        channel = open(output);
    }

    /**
     * The image file for data, opened for direct I/O where the file system allows it: the data goes to the disk while
     * the layers stream (not all at the final fsync) and is not copied into the page cache on the way.
     */
    private static FileChannel open(Path output) throws IOException {
        try {
            return FileChannel.open(output, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, com.sun.nio.file.ExtendedOpenOption.DIRECT);
        } catch (IOException | UnsupportedOperationException e) {
            java.nio.file.Files.deleteIfExists(output);
            return FileChannel.open(output, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        }
    }

    /**
     * The bytes the blocks an ext4 image uses take (its size less its free blocks, as its superblock counts them): at
     * most what the sparse image occupies on disk (parts of its inode tables are never written). A file that is not
     * ext4 counts at its full size.
     */
    static long usedBytes(Path image) throws IOException {
        try (FileChannel file = FileChannel.open(image, StandardOpenOption.READ)) {
            ByteBuffer sb = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
            while (sb.hasRemaining() && file.read(sb, 1024 + sb.position()) >= 0) {
                // reads the primary superblock
            }
            if (sb.hasRemaining() || (sb.getShort(56) & 0xffff) != 0xEF53) {
                return file.size();
            }
            long blockSize = 1024L << sb.getInt(24);
            long blocks = Integer.toUnsignedLong(sb.getInt(4));
            long free = Integer.toUnsignedLong(sb.getInt(12));
            return Math.max(0, blocks - free) * blockSize;
        }
    }

    /**
     * The bytes up to the end of the last block allocated so far: after {@link #finish}, at most what the image
     * occupies, as {@link #usedBytes} counts it.
     */
    long allocatedBytes() {
        return cursor * BLOCK;
    }

    /** Whether block group {@code group} holds a superblock copy (sparse_super). */
    static boolean hasSuper(long group) {
        return group <= 1 || isPower(group, 3) || isPower(group, 5) || isPower(group, 7);
    }

    private static boolean isPower(long n, int base) {
        long p = base;
        while (p < n) {
            p *= base;
        }
        return p == n;
    }

    /** {@code block}, or the first block after the superblock area it falls in. */
    private static long skipSuperArea(long block) {
        long group = block / BLOCKS_PER_GROUP;
        long inGroup = block % BLOCKS_PER_GROUP;
        return hasSuper(group) && inGroup < SUPER_AREA ? group * BLOCKS_PER_GROUP + SUPER_AREA : block;
    }

    /** Allocates {@code blocks} blocks after everything allocated so far, as extents of at most 32768 blocks. */
    private long[] allocate(long blocks) {
        List<Long> out = new ArrayList<>();
        while (blocks > 0) {
            cursor = skipSuperArea(cursor);
            long groupEnd = (cursor / BLOCKS_PER_GROUP + 1) * BLOCKS_PER_GROUP;
            long length = Math.min(blocks, groupEnd - cursor);
            long last = out.isEmpty() ? -1 : out.getLast();
            if (last >= 0 && (last >>> 16) + (last & 0xffff) == cursor && (last & 0xffff) + length <= MAX_EXTENT) {
                out.set(out.size() - 1, last + length);
            } else {
                length = Math.min(length, MAX_EXTENT);
                out.add(cursor << 16 | length);
            }
            cursor += length;
            blocks -= length;
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** Allocates {@code blocks} contiguous blocks (no superblock area inside). */
    private long allocateContiguous(int blocks) {
        while (true) {
            cursor = skipSuperArea(cursor);
            long end = cursor + blocks;
            long blocked = -1;
            for (long group = cursor / BLOCKS_PER_GROUP + 1; group * BLOCKS_PER_GROUP < end; group++) {
                if (hasSuper(group)) {
                    blocked = group;
                    break;
                }
            }
            if (blocked < 0) {
                long start = cursor;
                cursor = end;
                return start;
            }
            cursor = blocked * BLOCKS_PER_GROUP;
        }
    }

    /**
     * Stores a file's content: exactly {@code size} bytes from {@code in}, in newly allocated blocks.
     *
     * @return the extents holding it
     * @throws IOException if {@code in} ends early, or the size is more than a drive can hold
     */
    long[] writeData(InputStream in, long size) throws IOException {
        if (size < 0 || size > MAX_BYTES) {
            throw new IOException("a size of " + size + " bytes does not fit in a root drive (at most " + MAX_BYTES + ")");
        }
        long[] extents = allocate((size + BLOCK - 1) / BLOCK);
        long left = size;
        for (long extent : extents) {
            long start = extent >>> 16;
            long bytes = Math.min(left, (extent & 0xffff) * BLOCK);
            seek(start);
            left -= bytes;
            while (bytes > 0) {
                if (!buffer.hasRemaining()) {
                    flush();
                }
                int n = in.read(buffer.array(), buffer.position(), (int) Math.min(bytes, buffer.remaining()));
                if (n < 0) {
                    throw new IOException("the content ended " + (left + bytes) + " bytes before its size of " + size);
                }
                buffer.position(buffer.position() + n);
                bytes -= n;
            }
        }
        padToBlock();
        return extents;
    }

    /** Stores {@code content} (whole blocks) in newly allocated blocks. */
    private long[] writeBlocks(byte[] content) throws IOException {
        return writeData(new java.io.ByteArrayInputStream(content), content.length);
    }

    private void seek(long block) throws IOException {
        if (bufferBlock * BLOCK + buffer.position() != block * BLOCK) {
            flush();
            bufferBlock = block;
        }
    }

    /** Zeroes the rest of the current block: the buffer is whole blocks long, so it has room for that. */
    private void padToBlock() {
        int partial = buffer.position() % BLOCK;
        if (partial != 0) {
            int pad = BLOCK - partial;
            Arrays.fill(buffer.array(), buffer.position(), buffer.position() + pad, (byte) 0);
            buffer.position(buffer.position() + pad);
        }
    }

    private void flush() throws IOException {
        // flushes happen with the buffer full or after padToBlock: whole blocks
        write(bufferBlock, buffer.array(), buffer.position());
        bufferBlock += buffer.position() / BLOCK;
        buffer.clear();
    }

    /** Writes metadata {@code bytes} (whole blocks) at {@code block}. */
    private void writeAt(long block, byte[] bytes) throws IOException {
        ByteBuffer wrapped = ByteBuffer.wrap(bytes);
        long at = block * BLOCK;
        while (wrapped.hasRemaining()) {
            at += metadata.write(wrapped, at);
        }
    }

    private void write(long block, byte[] bytes, int length) throws IOException {
        long at = block * BLOCK;
        for (int done = 0; done < length; ) {
            aligned.clear();
            int n = Math.min(length - done, BUFFER);
            aligned.put(bytes, done, n).flip();
            while (aligned.hasRemaining()) {
                at += channel.write(aligned, at);
            }
            done += n;
        }
    }

    /** The size and placement the metadata of a finished image has. */
    private record Layout(long blocks, int groups, int inodesPerGroup, int gdtBlocks, long[] blockBitmap, long[] inodeBitmap, long[] inodeTable) {}

    /**
     * Writes the metadata of the tree under {@code root} (which gets inode 2; a {@code lost+found} directory is made
     * in it if missing) and sizes the file system for its data with headroom plus {@code freeBytes}.
     *
     * @return the image's size in bytes
     * @throws PullException if a file has more than 65000 links, too many extents, or the image would be too large
     */
    long finish(Node root, long freeBytes) throws PullException, IOException {
        if (!root.children.containsKey("lost+found")) {
            Node lostFound = new Node(S_IFDIR | 0700);
            lostFound.mtime = now;
            root.children.put("lost+found", lostFound);
        }
        List<Node> nodes = number(root);
        for (Node node : nodes) {
            if (node.isDirectory()) {
                node.extents = writeBlocks(directory(node));
                node.size = blockCount(node.extents) * BLOCK;
            }
            if (node.extents.length > EXTENTS_IN_INODE) {
                leaves(node);
            }
            byte[] xattrs = Ext4Xattrs.block(node);
            if (xattrs != null) {
                node.xattrBlock = writeBlocks(xattrs)[0] >>> 16;
            }
        }
        flush();
        metadata = FileChannel.open(output, StandardOpenOption.WRITE);
        long dataEnd = cursor;
        int maxIno = nodes.getLast().ino;
        long inodes = maxIno + nodes.size() / 4 + freeBytes / (16 * 1024) + 256;
        long headroom = dataEnd / 10 + (16L << 20) / BLOCK + (freeBytes + BLOCK - 1) / BLOCK;
        Layout layout = layout(dataEnd, inodes, headroom);
        writeInodeTables(layout, nodes);
        long freeBlocks = writeBitmapsAndDescriptors(layout, nodes, maxIno, root);
        writeAt(layout.blocks() - 1, new byte[BLOCK]); // the file's size: a free block, so zeros are right
        writeSuperblocks(layout, freeBlocks, (long) layout.groups() * layout.inodesPerGroup() - maxIno);
        metadata.force(false); // the file's: data written directly, metadata, allocation
        return layout.blocks() * BLOCK;
    }

    /** Numbers the nodes reachable from {@code root} breadth first, counts their links; the list is in inode order. */
    private List<Node> number(Node root) throws PullException {
        List<Node> nodes = new ArrayList<>();
        root.ino = ROOT_INO;
        root.parentIno = ROOT_INO;
        nodes.add(root);
        Node lostFound = root.children.get("lost+found");
        int next = FIRST_INO;
        if (lostFound.isDirectory()) {
            lostFound.ino = LOST_FOUND_INO;
            nodes.add(lostFound);
            next = LOST_FOUND_INO + 1;
        }
        ArrayDeque<Node> queue = new ArrayDeque<>(List.of(root));
        while (!queue.isEmpty()) {
            Node dir = queue.poll();
            int subdirectories = 0;
            for (Node child : dir.children.values()) {
                if (child.isDirectory()) {
                    subdirectories++;
                    child.parentIno = dir.ino;
                    queue.add(child);
                } else {
                    child.links++;
                }
                if (child.ino == 0) {
                    if (next < 0) {
                        throw new PullException("the image has more than 2^31 files");
                    }
                    child.ino = next++;
                    nodes.add(child);
                }
            }
            dir.links = 2 + subdirectories;
        }
        nodes.sort(java.util.Comparator.comparingInt(n -> n.ino));
        for (Node node : nodes) {
            if (!node.isDirectory() && node.links > MAX_LINKS) {
                throw new PullException("a file has " + node.links + " hard links, more than ext4's " + MAX_LINKS);
            }
            if (node.links > MAX_LINKS) {
                node.links = 1; // dir_nlink: a directory with too many subdirectories counts 1
            }
        }
        return nodes;
    }

    private static long blockCount(long[] extents) {
        long blocks = 0;
        for (long extent : extents) {
            blocks += extent & 0xffff;
        }
        return blocks;
    }

    /** A directory's blocks: ".", "..", then its entries, linear. */
    private static byte[] directory(Node dir) throws PullException {
        ByteBuffer out = ByteBuffer.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        List<byte[]> blocks = new ArrayList<>();
        int[] lastEntry = {-1};
        DirentSink sink = (ino, name, type) -> {
            int length = 8 + (name.length + 3) / 4 * 4;
            if (out.remaining() < length) {
                out.putShort(lastEntry[0] + 4, (short) (BLOCK - lastEntry[0]));
                blocks.add(out.array().clone());
                out.clear();
                Arrays.fill(out.array(), (byte) 0);
            }
            lastEntry[0] = out.position();
            out.putInt(ino).putShort((short) length).put((byte) name.length).put((byte) type).put(name);
            out.position(lastEntry[0] + length);
        };
        sink.add(dir.ino, new byte[] {'.'}, 2);
        sink.add(dir.parentIno, new byte[] {'.', '.'}, 2);
        for (var entry : dir.children.entrySet()) {
            byte[] name = entry.getKey().getBytes(StandardCharsets.UTF_8);
            if (name.length > 255) {
                throw new PullException("the name " + entry.getKey() + " is longer than 255 bytes");
            }
            sink.add(entry.getValue().ino, name, fileType(entry.getValue()));
        }
        out.putShort(lastEntry[0] + 4, (short) (BLOCK - lastEntry[0]));
        blocks.add(out.array().clone());
        byte[] all = new byte[blocks.size() * BLOCK];
        for (int i = 0; i < blocks.size(); i++) {
            System.arraycopy(blocks.get(i), 0, all, i * BLOCK, BLOCK);
        }
        return all;
    }

    @FunctionalInterface
    private interface DirentSink {
        void add(int ino, byte[] name, int type);
    }

    private static int fileType(Node node) {
        return switch (node.type()) {
            case S_IFREG -> 1;
            case S_IFDIR -> 2;
            case S_IFCHR -> 3;
            case S_IFBLK -> 4;
            case S_IFIFO -> 5;
            case S_IFSOCK -> 6;
            case S_IFLNK -> 7;
            default -> 0;
        };
    }

    /** Writes the extent leaf blocks of a file with more extents than its inode holds. */
    private void leaves(Node node) throws PullException, IOException {
        int count = (node.extents.length + EXTENTS_PER_LEAF - 1) / EXTENTS_PER_LEAF;
        if (count > EXTENTS_IN_INODE) {
            throw new PullException("a file of " + node.size + " bytes needs more than " + EXTENTS_IN_INODE * EXTENTS_PER_LEAF + " extents");
        }
        node.leaves = new long[count];
        for (int i = 0; i < count; i++) {
            ByteBuffer leaf = ByteBuffer.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
            int from = i * EXTENTS_PER_LEAF;
            int to = Math.min(node.extents.length, from + EXTENTS_PER_LEAF);
            extentHeader(leaf, to - from, EXTENTS_PER_LEAF, 0);
            long logical = logicalStart(node.extents, from);
            for (int e = from; e < to; e++) {
                logical = extentEntry(leaf, node.extents[e], logical);
            }
            node.leaves[i] = writeBlocks(leaf.array())[0] >>> 16;
        }
    }

    private static long logicalStart(long[] extents, int index) {
        long logical = 0;
        for (int e = 0; e < index; e++) {
            logical += extents[e] & 0xffff;
        }
        return logical;
    }

    private static void extentHeader(ByteBuffer out, int entries, int max, int depth) {
        out.putShort((short) 0xF30A).putShort((short) entries).putShort((short) max).putShort((short) depth).putInt(0);
    }

    private static long extentEntry(ByteBuffer out, long extent, long logical) {
        long start = extent >>> 16;
        out.putInt((int) logical).putShort((short) (extent & 0xffff)).putShort((short) (start >>> 32)).putInt((int) start);
        return logical + (extent & 0xffff);
    }

    private Layout layout(long dataEnd, long inodes, long headroom) throws PullException {
        long blocks = roundUp(dataEnd + headroom, 256);
        for (int attempt = 0; ; attempt++) {
            long groups = Math.max((blocks + BLOCKS_PER_GROUP - 1) / BLOCKS_PER_GROUP, (inodes + BLOCKS_PER_GROUP - 1) / BLOCKS_PER_GROUP);
            int gdtBlocks = (int) ((groups * DESCRIPTOR_SIZE + BLOCK - 1) / BLOCK);
            if (gdtBlocks > MAX_GDT_BLOCKS || attempt > 8) {
                throw new PullException("the root drive would have " + groups + " block groups, more than "
                        + MAX_GDT_BLOCKS * (BLOCK / DESCRIPTOR_SIZE) + " (" + MAX_GDT_BLOCKS * (BLOCK / DESCRIPTOR_SIZE) / 8 + " GiB)");
            }
            blocks = Math.max(blocks, (groups - 1) * BLOCKS_PER_GROUP + 1024);
            int perGroup = (int) roundUp((inodes + groups - 1) / groups, INODES_PER_BLOCK * 8);
            cursor = dataEnd;
            long[] blockBitmap = new long[(int) groups];
            long[] inodeBitmap = new long[(int) groups];
            long[] inodeTable = new long[(int) groups];
            for (int g = 0; g < groups; g++) {
                blockBitmap[g] = allocateContiguous(1);
                inodeBitmap[g] = allocateContiguous(1);
                inodeTable[g] = allocateContiguous(perGroup / INODES_PER_BLOCK);
            }
            long needed = roundUp(cursor + headroom, 256);
            if (needed <= blocks && (blocks + BLOCKS_PER_GROUP - 1) / BLOCKS_PER_GROUP == groups) {
                return new Layout(blocks, (int) groups, perGroup, gdtBlocks, blockBitmap, inodeBitmap, inodeTable);
            }
            blocks = Math.max(blocks, needed);
        }
    }

    private static long roundUp(long value, long unit) {
        return (value + unit - 1) / unit * unit;
    }

    private void writeInodeTables(Layout layout, List<Node> nodes) throws IOException {
        int perGroup = layout.inodesPerGroup();
        ByteBuffer table = null;
        int group = -1;
        for (Node node : nodes) {
            int g = (node.ino - 1) / perGroup;
            if (g != group) {
                if (table != null) {
                    writeAt(layout.inodeTable()[group], Arrays.copyOf(table.array(), (int) roundUp(table.limit(), BLOCK)));
                }
                group = g;
                table = ByteBuffer.allocate(perGroup * INODE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
                table.limit(0);
            }
            int at = ((node.ino - 1) % perGroup) * INODE_SIZE;
            table.limit(Math.max(table.limit(), at + INODE_SIZE));
            inode(table.slice(at, INODE_SIZE).order(ByteOrder.LITTLE_ENDIAN), node);
        }
        if (table != null) {
            writeAt(layout.inodeTable()[group], Arrays.copyOf(table.array(), (int) roundUp(table.limit(), BLOCK)));
        }
    }

    private void inode(ByteBuffer out, Node node) {
        long sectors = (blockCount(node.extents) + node.leaves.length + (node.xattrBlock != 0 ? 1 : 0)) * (BLOCK / 512);
        out.putShort(0, (short) node.mode);
        out.putShort(2, (short) node.uid);
        out.putInt(4, (int) node.size);
        int seconds = (int) node.mtime;
        int extra = (int) (((node.mtime - seconds) >> 32) & 3) | node.mtimeNanos << 2;
        out.putInt(8, seconds).putInt(12, (int) now).putInt(16, seconds);
        out.putShort(24, (short) node.gid);
        out.putShort(26, (short) node.links);
        out.putInt(28, (int) sectors);
        out.putInt(104, (int) node.xattrBlock);
        out.putInt(108, (int) (node.size >>> 32));
        out.putShort(116, (short) (sectors >>> 32));
        out.putShort(120, (short) (node.uid >>> 16));
        out.putShort(122, (short) (node.gid >>> 16));
        out.putShort(128, (short) 32);
        out.putInt(132, 0).putInt(136, extra).putInt(140, extra).putInt(144, (int) now);
        ByteBuffer block = out.slice(40, 60).order(ByteOrder.LITTLE_ENDIAN);
        switch (node.type()) {
            case S_IFCHR, S_IFBLK -> {
                if (node.major < 256 && node.minor < 256) {
                    block.putInt(0, node.major << 8 | node.minor);
                } else {
                    block.putInt(4, (node.minor & 0xff) | node.major << 8 | (node.minor & ~0xff) << 12);
                }
            }
            case S_IFIFO, S_IFSOCK -> { }
            default -> {
                if (node.type() == S_IFLNK && node.extents.length == 0) {
                    block.put(0, node.symlink);
                    return;
                }
                out.putInt(32, EXTENTS_FL);
                if (node.leaves.length > 0) {
                    extentHeader(block, node.leaves.length, EXTENTS_IN_INODE, 1);
                    for (int i = 0; i < node.leaves.length; i++) {
                        long start = node.leaves[i];
                        block.putInt((int) logicalStart(node.extents, i * EXTENTS_PER_LEAF)).putInt((int) start)
                                .putShort((short) (start >>> 32)).putShort((short) 0);
                    }
                } else {
                    extentHeader(block, node.extents.length, EXTENTS_IN_INODE, 0);
                    long logical = 0;
                    for (long extent : node.extents) {
                        logical = extentEntry(block, extent, logical);
                    }
                }
            }
        }
    }

    /** Writes block and inode bitmaps and the group descriptors (primary and backups). @return the free blocks */
    private long writeBitmapsAndDescriptors(Layout layout, List<Node> nodes, int maxIno, Node root) throws IOException {
        long[] used = new long[(int) ((layout.blocks() + 63) / 64)];
        for (long g = 0; g < layout.groups(); g++) {
            if (hasSuper(g)) {
                mark(used, g * BLOCKS_PER_GROUP, 1 + layout.gdtBlocks());
            }
            mark(used, layout.blockBitmap()[(int) g], 1);
            mark(used, layout.inodeBitmap()[(int) g], 1);
            mark(used, layout.inodeTable()[(int) g], layout.inodesPerGroup() / INODES_PER_BLOCK);
        }
        int[] directories = new int[layout.groups()];
        for (Node node : nodes) {
            for (long extent : node.extents) {
                mark(used, extent >>> 16, extent & 0xffff);
            }
            for (long leaf : node.leaves) {
                mark(used, leaf, 1);
            }
            if (node.xattrBlock != 0) {
                mark(used, node.xattrBlock, 1);
            }
            if (node.isDirectory()) {
                directories[(node.ino - 1) / layout.inodesPerGroup()]++;
            }
        }
        ByteBuffer descriptors = ByteBuffer.allocate(layout.gdtBlocks() * BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        long freeTotal = 0;
        for (int g = 0; g < layout.groups(); g++) {
            long first = (long) g * BLOCKS_PER_GROUP;
            long count = Math.min(BLOCKS_PER_GROUP, layout.blocks() - first);
            byte[] bitmap = new byte[BLOCK];
            int free = 0;
            for (int b = 0; b < BLOCKS_PER_GROUP; b++) {
                if (b >= count || isMarked(used, first + b)) {
                    bitmap[b >> 3] |= (byte) (1 << (b & 7));
                } else {
                    free++;
                }
            }
            writeAt(layout.blockBitmap()[g], bitmap);
            freeTotal += free;
            byte[] inodeBitmap = new byte[BLOCK];
            long firstIno = (long) g * layout.inodesPerGroup() + 1;
            int freeInodes = 0;
            for (int i = 0; i < BLOCK * 8; i++) {
                if (i >= layout.inodesPerGroup() || firstIno + i <= maxIno) {
                    inodeBitmap[i >> 3] |= (byte) (1 << (i & 7));
                } else {
                    freeInodes++;
                }
            }
            writeAt(layout.inodeBitmap()[g], inodeBitmap);
            descriptors.position(g * DESCRIPTOR_SIZE);
            descriptors.putInt((int) layout.blockBitmap()[g]).putInt((int) layout.inodeBitmap()[g]).putInt((int) layout.inodeTable()[g])
                    .putShort((short) free).putShort((short) freeInodes).putShort((short) directories[g]);
        }
        for (long g = 0; g < layout.groups(); g++) {
            if (hasSuper(g)) {
                writeAt(g * BLOCKS_PER_GROUP + 1, descriptors.array());
            }
        }
        return freeTotal;
    }

    private static void mark(long[] bits, long from, long count) {
        for (long b = from; b < from + count; b++) {
            bits[(int) (b >>> 6)] |= 1L << (b & 63);
        }
    }

    private static boolean isMarked(long[] bits, long b) {
        return (bits[(int) (b >>> 6)] & (1L << (b & 63))) != 0;
    }

    private void writeSuperblocks(Layout layout, long freeBlocks, long freeInodes) throws IOException {
        ByteBuffer sb = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
        SecureRandom random = new SecureRandom();
        byte[] uuid = new byte[16];
        random.nextBytes(uuid);
        uuid[6] = (byte) (uuid[6] & 0x0f | 0x40);
        uuid[8] = (byte) (uuid[8] & 0x3f | 0x80);
        sb.putInt(0, layout.groups() * layout.inodesPerGroup());
        sb.putInt(4, (int) layout.blocks());
        sb.putInt(12, (int) freeBlocks);
        sb.putInt(16, (int) freeInodes);
        sb.putInt(20, 0);
        sb.putInt(24, 2).putInt(28, 2);
        sb.putInt(32, BLOCKS_PER_GROUP).putInt(36, BLOCKS_PER_GROUP).putInt(40, layout.inodesPerGroup());
        sb.putInt(48, (int) now);
        sb.putShort(54, (short) -1);
        sb.putShort(56, (short) 0xEF53);
        sb.putShort(58, (short) 1);
        sb.putShort(60, (short) 1);
        sb.putInt(64, (int) now);
        sb.putInt(76, 1);
        sb.putInt(84, FIRST_INO);
        sb.putShort(88, (short) INODE_SIZE);
        sb.putInt(92, 0x0008 | 0x0020); // ext_attr, dir_index
        sb.putInt(96, 0x0002 | 0x0040 | 0x0200); // filetype, extents, flex_bg
        sb.putInt(100, 0x0001 | 0x0002 | 0x0020 | 0x0040); // sparse_super, large_file, dir_nlink, extra_isize
        sb.put(104, uuid);
        sb.put(120, "rootfs".getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < 4; i++) {
            sb.putInt(236 + 4 * i, random.nextInt());
        }
        sb.put(252, (byte) 1); // half_md4
        sb.putInt(256, 0x0004 | 0x0008); // user_xattr, acl
        sb.putInt(264, (int) now);
        sb.putShort(348, (short) 32).putShort(350, (short) 32);
        sb.putInt(352, 1); // signed directory hash
        sb.put(372, (byte) 4); // 16 groups per flex group
        for (long g = 0; g < layout.groups(); g++) {
            if (hasSuper(g)) {
                sb.putShort(90, (short) g);
                if (g == 0) {
                    byte[] first = new byte[BLOCK];
                    System.arraycopy(sb.array(), 0, first, 1024, 1024);
                    writeAt(0, first);
                } else {
                    byte[] copy = new byte[BLOCK];
                    System.arraycopy(sb.array(), 0, copy, 0, 1024);
                    writeAt(g * BLOCKS_PER_GROUP, copy);
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (metadata != null) {
            metadata.close();
        }
        channel.close();
    }
}
