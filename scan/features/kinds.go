package features

import ts "github.com/tree-sitter/go-tree-sitter"

// kinds holds the node-kind and field ids the analysis needs, resolved once
// per grammar so the hot path compares integers instead of strings. Kinds a
// grammar lacks get noKind, which no node has.
type kinds struct {
	comment, identifier, str, number, array, object, pair, call, args, binary, paren, await, trueLit, block, exprStmt uint16

	// JavaScript.
	program, propertyIdent, shorthandProp, shorthandPropPattern, member, subscript, newExpr, templateString, templateSubst,
	stringFragment, regex, regexPattern, objectPattern, pairPattern, varDeclarator, assignExpr, funcDecl, genFuncDecl,
	funcExpr, genFunc, arrowFunc, methodDef, classDecl, class, classBody, importStmt, importClause, namespaceImport,
	namedImports, importSpecifier, importKw, this, spread, sequenceExpr, templateLit uint16

	// Python.
	module, attribute, pySubscript, argList, keywordArg, stringContent, stringStart, stringEnd, interpolation,
	concatString, integer, list, tuple, set, dictionary, assignment, funcDef, classDef, decoratedDef, pyImport,
	importFrom, aliasedImport, dottedName, relativeImport, importPrefix, wildcardImport, execStmt, generatorExpr,
	listComp, escapeSeq uint16

	// Fields.
	fFunction, fArguments, fObject, fProperty, fIndex, fName, fValue, fLeft, fRight, fBody, fSource, fAlias, fKey,
	fConstructor, fAttribute, fSubscript, fModuleName, fSuperclasses, fDefinition, fOperator uint16
}

const noKind = 0xFFFE

func resolveKinds(id langID, l *ts.Language) kinds {
	kind := func(name string) uint16 {
		if k := l.IdForNodeKind(name, true); k != 0 {
			return k
		}
		return noKind
	}
	field := func(name string) uint16 { return l.FieldIdForName(name) }
	var k kinds
	k.comment = kind("comment")
	k.identifier = kind("identifier")
	k.str = kind("string")
	k.array = kind("array")
	k.object = kind("object")
	k.pair = kind("pair")
	k.paren = kind("parenthesized_expression")
	k.trueLit = kind("true")
	k.exprStmt = kind("expression_statement")
	k.fFunction = field("function")
	k.fArguments = field("arguments")
	k.fObject = field("object")
	k.fProperty = field("property")
	k.fIndex = field("index")
	k.fName = field("name")
	k.fValue = field("value")
	k.fLeft = field("left")
	k.fRight = field("right")
	k.fBody = field("body")
	k.fSource = field("source")
	k.fAlias = field("alias")
	k.fKey = field("key")
	k.fConstructor = field("constructor")
	k.fAttribute = field("attribute")
	k.fSubscript = field("subscript")
	k.fModuleName = field("module_name")
	k.fSuperclasses = field("superclasses")
	k.fDefinition = field("definition")
	k.fOperator = field("operator")
	switch id {
	case langJS:
		k.number = kind("number")
		k.call = kind("call_expression")
		k.args = kind("arguments")
		k.binary = kind("binary_expression")
		k.await = kind("await_expression")
		k.block = kind("statement_block")
		k.program = kind("program")
		k.propertyIdent = kind("property_identifier")
		k.shorthandProp = kind("shorthand_property_identifier")
		k.shorthandPropPattern = kind("shorthand_property_identifier_pattern")
		k.member = kind("member_expression")
		k.subscript = kind("subscript_expression")
		k.newExpr = kind("new_expression")
		k.templateString = kind("template_string")
		k.templateSubst = kind("template_substitution")
		k.stringFragment = kind("string_fragment")
		k.regex = kind("regex")
		k.regexPattern = kind("regex_pattern")
		k.objectPattern = kind("object_pattern")
		k.pairPattern = kind("pair_pattern")
		k.varDeclarator = kind("variable_declarator")
		k.assignExpr = kind("assignment_expression")
		k.funcDecl = kind("function_declaration")
		k.genFuncDecl = kind("generator_function_declaration")
		k.funcExpr = kind("function_expression")
		k.genFunc = kind("generator_function")
		k.arrowFunc = kind("arrow_function")
		k.methodDef = kind("method_definition")
		k.classDecl = kind("class_declaration")
		k.class = kind("class")
		k.classBody = kind("class_body")
		k.importStmt = kind("import_statement")
		k.importClause = kind("import_clause")
		k.namespaceImport = kind("namespace_import")
		k.namedImports = kind("named_imports")
		k.importSpecifier = kind("import_specifier")
		k.importKw = kind("import")
		k.this = kind("this")
		k.spread = kind("spread_element")
		k.sequenceExpr = kind("sequence_expression")
		k.escapeSeq = kind("escape_sequence")
	case langPython:
		k.number = kind("integer")
		k.integer = k.number
		k.call = kind("call")
		k.args = kind("argument_list")
		k.argList = k.args
		k.binary = kind("binary_operator")
		k.await = kind("await")
		k.block = kind("block")
		k.module = kind("module")
		k.attribute = kind("attribute")
		k.pySubscript = kind("subscript")
		k.keywordArg = kind("keyword_argument")
		k.stringContent = kind("string_content")
		k.stringStart = kind("string_start")
		k.stringEnd = kind("string_end")
		k.interpolation = kind("interpolation")
		k.concatString = kind("concatenated_string")
		k.list = kind("list")
		k.tuple = kind("tuple")
		k.set = kind("set")
		k.dictionary = kind("dictionary")
		k.assignment = kind("assignment")
		k.funcDef = kind("function_definition")
		k.classDef = kind("class_definition")
		k.decoratedDef = kind("decorated_definition")
		k.pyImport = kind("import_statement")
		k.importFrom = kind("import_from_statement")
		k.aliasedImport = kind("aliased_import")
		k.dottedName = kind("dotted_name")
		k.relativeImport = kind("relative_import")
		k.importPrefix = kind("import_prefix")
		k.wildcardImport = kind("wildcard_import")
		k.execStmt = kind("exec_statement")
		k.generatorExpr = kind("generator_expression")
		k.listComp = kind("list_comprehension")
		k.escapeSeq = kind("escape_sequence")
	}
	// Kinds only one grammar has stay noKind in the other.
	for _, p := range []*uint16{&k.program, &k.propertyIdent, &k.shorthandProp, &k.shorthandPropPattern, &k.member, &k.subscript,
		&k.newExpr, &k.templateString, &k.templateSubst, &k.stringFragment, &k.regex, &k.regexPattern, &k.objectPattern,
		&k.pairPattern, &k.varDeclarator, &k.assignExpr, &k.funcDecl, &k.genFuncDecl, &k.funcExpr, &k.genFunc, &k.arrowFunc,
		&k.methodDef, &k.classDecl, &k.class, &k.classBody, &k.importStmt, &k.importClause, &k.namespaceImport,
		&k.namedImports, &k.importSpecifier, &k.importKw, &k.this, &k.spread, &k.sequenceExpr, &k.module, &k.attribute,
		&k.pySubscript, &k.argList, &k.keywordArg, &k.stringContent, &k.stringStart, &k.stringEnd, &k.interpolation,
		&k.concatString, &k.integer, &k.list, &k.tuple, &k.set, &k.dictionary, &k.assignment, &k.funcDef, &k.classDef,
		&k.decoratedDef, &k.pyImport, &k.importFrom, &k.aliasedImport, &k.dottedName, &k.relativeImport, &k.importPrefix,
		&k.wildcardImport, &k.execStmt, &k.generatorExpr, &k.listComp} {
		if *p == 0 {
			*p = noKind
		}
	}
	return k
}
