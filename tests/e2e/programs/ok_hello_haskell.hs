module Main (main) where

import qualified Data.Map.Strict as Map

main :: IO ()
main = putStrLn (Map.findWithDefault "?" "en" greetings)
  where greetings = Map.fromList [("en", "Hello, world!"), ("fr", "Bonjour, le monde !")]
