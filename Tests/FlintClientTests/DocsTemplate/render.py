# Renders sdk-docs/swift-sdk.md from a template whose {{name}} markers stand for the samples in DocSamples.swift.
# Usage: python3 Tests/FlintClientTests/DocsTemplate/render.py Tests/FlintClientTests/DocsTemplate/swift-sdk.md.template > sdk-docs/swift-sdk.md
import re, sys, textwrap, pathlib
samples = {}
source = (pathlib.Path(__file__).parent.parent / "DocSamples.swift").read_text()
for match in re.finditer(r"^[ \t]*// sample: (\S+)\n(.*?)^[ \t]*// end sample\n", source, re.S | re.M):
    samples[match.group(1)] = textwrap.dedent(match.group(2)).rstrip("\n")
template = pathlib.Path(sys.argv[1]).read_text()
print(re.sub(r"\{\{(\S+?)\}\}", lambda m: "```swift\n" + samples[m.group(1)] + "\n```", template), end="")
