namespace KubeCaRotate.Lab.Tests.Rotation;

/// <summary>
/// A full-rotation lab test (minutes each, a 3 + 2 lab): run when KCR_ROTATION_LAB_TESTS=1, skipped otherwise until
/// they are proven stable in the default suite (issue 6). `KCR_ROTATION_LAB_TESTS=1 bash scripts/test.sh` runs them.
/// </summary>
public sealed class RotationLabFactAttribute : FactAttribute
{
    public RotationLabFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("KCR_ROTATION_LAB_TESTS") != "1")
            Skip = "Full-rotation lab test: set KCR_ROTATION_LAB_TESTS=1 to run it (not yet proven stable in the default suite; issue 6).";
    }
}
