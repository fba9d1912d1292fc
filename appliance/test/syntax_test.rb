require_relative "helper"
require "ripper"
begin
  require "ruby_parser"
rescue LoadError
  RUBY_PARSER_MISSING = "ruby_parser is not installed (Debian: apt-get install ruby-ruby-parser)".freeze
end

# The file must load on Ruby 2.3 (Euwe): its grammar, and no core method added later.
class SyntaxTest < Minitest::Test
  # Core methods newer than Ruby 2.3. compact (Hash#compact is 2.4) and slice (Hash#slice
  # is 2.5) are banned outright: a token cannot tell a Hash from an Array.
  NEWER_THAN_2_3 = %w(sum filter_map then yield_self match? transform_values transform_keys
                      delete_prefix delete_suffix clamp tally filter filter! compact slice except
                      union difference intersection intersect? each_child children casecmp? unpack1
                      digits append grapheme_clusters undump ceildiv by_key? deconstruct
                      deconstruct_keys).freeze
  NUMBERED_PARAMETERS = /\A(_[1-9]|it)\z/

  def source
    File.read(MEMLOG_RB)
  end

  def test_the_file_parses_with_the_ruby_2_3_grammar
    flunk RUBY_PARSER_MISSING if defined?(RUBY_PARSER_MISSING)
    Ruby23Parser.new.parse(source, MEMLOG_RB)
    assert_raises(Racc::ParseError) { Ruby23Parser.new.parse("def f = 1\n") }
    assert_raises(Racc::ParseError) { Ruby23Parser.new.parse("[1].each do |x|\n  x\nrescue\n  nil\nend\n") }
  end

  # [line, name] of each method called or named as a symbol that Ruby 2.3 lacks.
  def newer_calls(code)
    tokens = Ripper.lex(code).reject { |_, type, _| %i(on_sp on_nl on_ignored_nl on_comment).include?(type) }
    found = []
    tokens.each_cons(2) do |(_, type, text), ((line, _), next_type, name)|
      next unless %i(on_ident on_kw on_const).include?(next_type)
      after_dot = type == :on_period || (type == :on_op && %w(&. ::).include?(text))
      named = type == :on_symbeg || (type == :on_op && text == "&:")
      found << [line, name] if (after_dot || named) && NEWER_THAN_2_3.include?(name)
    end
    tokens.each do |(line, _), type, text|
      found << [line, text] if type == :on_ident && text =~ NUMBERED_PARAMETERS
    end
    found
  end

  def test_the_file_calls_no_core_method_newer_than_ruby_2_3
    assert_equal [], newer_calls(source)
  end

  def test_the_check_sees_calls_safe_calls_symbols_and_numbered_parameters
    code = "a.sum\nb&.then { 1 }\nc.map(&:filter_map)\nd.send(:match?)\ne.each { _1 }\nf.size\n"
    assert_equal [[1, "sum"], [2, "then"], [3, "filter_map"], [4, "match?"], [5, "_1"]], newer_calls(code)
  end
end
