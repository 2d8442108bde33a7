/// The version of Flint: the server reports it at `/health` and in `/openapi.json`, and `flint --version` prints it.
/// One constant, so that the server and the CLI built from one tree always agree.
public enum FlintVersion {
    /// The release, as semantic versioning writes it.
    public static let current = "0.1.0"
}
