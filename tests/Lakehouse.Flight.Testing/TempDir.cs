namespace Lakehouse.Flight.Testing;

/// <summary>A fresh folder under the system temp dir for one test, deleted (best effort) afterwards.</summary>
public sealed class TempDir : IDisposable
{
    /// <param name="prefix">The folder under the temp dir that groups a suite's folders (<c>lakehouse-it</c>, ...).</param>
    public TempDir(string prefix = "lakehouse-tests")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), prefix, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose() => Delete(Path);

    /// <summary>Deletes a folder and what it holds; a file still open elsewhere leaves it behind, never fails the test.</summary>
    public static void Delete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
