// FlintRules: the Firebase Security Rules language (lexer, parser, checker, evaluator), depending on FlintCore only.
// The module is empty until the security-rules issue lands; it exists so that the package has the layout of
// DESIGN.md from the start.
