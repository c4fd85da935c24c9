namespace Lakehouse.Flight.Cli.Tests;

/// <summary>
/// Classes that start a server or migrate a 200k-row legacy file run one after another: the migration
/// saturates both cores of the CI machine, and a server in the same process then misses the smoke
/// check's 5 s per-call deadline (seen once in CI: "list datasets ... no answer within 5 s").
/// </summary>
[CollectionDefinition(Name)]
public sealed class ServerAndMigrationTests
{
    public const string Name = "servers and migrations";
}
