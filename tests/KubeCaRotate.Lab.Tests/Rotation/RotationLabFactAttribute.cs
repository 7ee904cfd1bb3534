namespace KubeCaRotate.Lab.Tests.Rotation;

/// <summary>
/// A full-rotation lab test: minutes each, the longest of the suite. They run by default (the suite is where the
/// rotation is proven); KCR_ROTATION_LAB_TESTS=0 skips them for a quick local run of everything else, e.g.
/// `KCR_ROTATION_LAB_TESTS=0 bash scripts/test.sh`.
/// </summary>
public sealed class RotationLabFactAttribute : FactAttribute
{
    private const string Variable = "KCR_ROTATION_LAB_TESTS";

    public RotationLabFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Variable) == "0")
            Skip = $"Full-rotation lab test skipped because {Variable}=0.";
    }
}
