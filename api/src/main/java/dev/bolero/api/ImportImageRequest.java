package dev.bolero.api;

/**
 * {@code POST /api/v1/images/import} with a JSON body: an archive already on the node.
 *
 * @param path an absolute path on the node: an OCI image layout (directory or tar) or a {@code docker save} tar
 */
public record ImportImageRequest(String path) {
    public ImportImageRequest {
        if (path == null || !path.startsWith("/")) throw ApiException.invalid("import image: path must be absolute, got '" + path + "'");
    }
}
