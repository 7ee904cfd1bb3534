namespace KubeCaRotate.Rotation;

/// <summary>
/// The rotation cannot go on as asked; the message is one sentence naming the node, file or CA and saying what to do.
/// Nothing the failing operation was about has been changed when this is thrown.
/// </summary>
public class RotationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The trust gate refused a step: applying it would break a connection that must stay up.</summary>
public sealed class StepRefusedException(string stepId, IReadOnlyList<string> reasons)
    : RotationException($"Step {stepId} was refused because {string.Join("; ", reasons)}; nothing of this step was changed: fix the cause and run again, or roll back.")
{
    public string StepId { get; } = stepId;

    public IReadOnlyList<string> Reasons { get; } = reasons;
}
