require_relative "helper"

# What the part in parentheses may show, and what it must never show.
class SummaryTest < Minitest::Test
  include MemlogTest

  # A Kafka ack_ref is the raw Kafka message: its inspect carries the payload.
  KafkaMessage = Struct.new(:topic, :value)
  OtherMessage = Struct.new(:id, :name, :args, :payload)
  Everything = Struct.new(*MiqMemlog::SUMMARY_ATTRIBUTES)

  def test_a_received_message_shows_sender_message_and_ack_ref_never_payload
    ack_ref = KafkaMessage.new("manageiq.ems", "s3cr3t-in-kafka-value")
    msg = ManageIQ::Messaging::ReceivedMessage.new("ems_12", "refresh", { password: "s3cr3t-in-payload" },
                                                   ack_ref, nil)
    assert_equal :acked, MiqGenericWorker::Runner.new.deliver_message(msg)

    assert_equal ['#<ManageIQ::Messaging::ReceivedMessage sender: "ems_12", message: "refresh", ' \
                  'ack_ref: #<SummaryTest::KafkaMessage>>'], samples.map(&:summary)
    refute_match(/s3cr3t/, memlog_text)
  end

  def test_any_other_object_shows_only_safe_attributes
    msg = OtherMessage.new(5, "name-is-not-listed", ["s3cr3t-in-args"], "s3cr3t-in-payload")
    assert_raises(RuntimeError) { MiqGenericWorker::Runner.new.deliver_message(msg) }
    assert_equal ["#<SummaryTest::OtherMessage id: 5>"], samples.map(&:summary)
    refute_match(/s3cr3t/, memlog_text)
  end

  def test_string_values_are_cut_to_200_characters_and_the_summary_to_1_kb
    MiqGenericWorker::Runner.new.deliver_message(queue_message(class_name: "C" * 300))
    assert_includes samples.last.summary, "class_name: \"#{"C" * 200}\", method_name:"
    assert_equal "C" * 200, records(:sample).last[:msg_class]

    big = Everything.new(*MiqMemlog::SUMMARY_ATTRIBUTES.map { |name| name.to_s * 100 })
    summary = MiqMemlog.summarize(big, MiqMemlog.message_attributes(big))
    assert_equal 1024, summary.length
    assert summary.end_with?("...>"), summary[-20..-1]
    assert summary.start_with?('#<SummaryTest::Everything id: "idididid')

    wide = Everything.new(*MiqMemlog::SUMMARY_ATTRIBUTES.map { "\u00e9" * 300 })
    summary = MiqMemlog.summarize(wide, MiqMemlog.message_attributes(wide))
    assert_operator summary.bytesize, :<=, 1024, "1 KB, counted in bytes"
    assert summary.valid_encoding?, "not cut inside a character"
    assert summary.end_with?("...>")
  end

  def test_secrets_in_args_and_data_are_never_written_to_any_sink
    ENV["MIQ_MEMLOG_SINKS"] = "file,log,stdout"
    msg = queue_message(args: [{ password: "s3cr3t-in-args" }], data: "s3cr3t-in-data",
                        miq_callback: { args: ["s3cr3t-in-callback"] })
    assert_match(/s3cr3t-in-args/, msg.inspect, "the stand-in's inspect holds the secret")
    stdout = capture_stdout { deliver(MiqGenericWorker::Runner.new, msg, msg) }

    assert_equal 2, samples.size
    assert_equal 2, stdout.lines.size - 1
    assert_equal 3, $log_io.string.lines.size
    [memlog_text, $log_io.string, $rails_log_io.string, stdout].each do |written|
      refute_match(/s3cr3t/, written)
    end
    @records.each { |_, fields| refute_match(/s3cr3t/, fields.inspect) }
  end
end
