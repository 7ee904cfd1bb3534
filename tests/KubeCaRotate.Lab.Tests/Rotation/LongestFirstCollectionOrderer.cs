using Xunit.Abstractions;

[assembly: TestCollectionOrderer("KubeCaRotate.Lab.Tests.Rotation.LongestFirstCollectionOrderer", "KubeCaRotate.Lab.Tests")]

namespace KubeCaRotate.Lab.Tests.Rotation;

/// <summary>
/// Starts the longest collections first — the full-rotation ones (the 3 + 2 lab's, then the single-control-plane
/// lab's), then the trust-model tests on their 3 + 2 lab and the waits on theirs — and the rest in xunit's order after
/// them. Two collections run at a time on this 2-core machine: started last, a collection of many minutes would run
/// alone at the end (measured in a whole run: the trust-model tests' 5 minutes after everything else).
/// </summary>
public sealed class LongestFirstCollectionOrderer : ITestCollectionOrderer
{
    /// <summary>Collection names (a [Collection] name, or the test class of a class's own collection), longest first.</summary>
    private static readonly string[] Longest = [RotationLabCollection.Name, RotationEdgeCaseLabCollection.Name, typeof(Trust.TrustModelLabTests).FullName!, "waits lab"];

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections)
    {
        var all = testCollections.ToList();
        // A class without [Collection] is in its own collection, displayed as "Test collection for NAMESPACE.CLASS".
        int Rank(ITestCollection c) => Array.FindIndex(Longest, n => c.DisplayName == n || c.DisplayName.EndsWith(" " + n, StringComparison.Ordinal)) is var i and >= 0 ? i : Longest.Length;
        return all.Select((c, i) => (c, i)).OrderBy(x => Rank(x.c)).ThenBy(x => x.i).Select(x => x.c).ToList();
    }
}
