# `prime` is a bundled gem in Ruby 3.1: this needs RubyGems on, as the recipe leaves it.
require 'prime'

puts 'Hello, world!' if Prime.first(3) == [2, 3, 5]
