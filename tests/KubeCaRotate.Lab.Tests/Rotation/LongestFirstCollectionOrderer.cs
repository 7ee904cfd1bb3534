using Xunit.Abstractions;

[assembly: TestCollectionOrderer("KubeCaRotate.Lab.Tests.Rotation.LongestFirstCollectionOrderer", "KubeCaRotate.Lab.Tests")]

namespace KubeCaRotate.Lab.Tests.Rotation;

/// <summary>
/// Starts the full-rotation collections first — the 3 + 2 lab's, then the single-control-plane lab's — and the rest in
/// xunit's order after them. Each is minutes of one lab's steps in a row, the longest runs of the suite: started first,
/// they overlap every shorter collection instead of running alone at the end.
/// </summary>
public sealed class LongestFirstCollectionOrderer : ITestCollectionOrderer
{
    private static readonly string[] Longest = [RotationLabCollection.Name, RotationEdgeCaseLabCollection.Name];

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections)
    {
        var all = testCollections.ToList();
        int Rank(ITestCollection c) => Array.IndexOf(Longest, c.DisplayName) is var i and >= 0 ? i : Longest.Length;
        return all.Select((c, i) => (c, i)).OrderBy(x => Rank(x.c)).ThenBy(x => x.i).Select(x => x.c).ToList();
    }
}
