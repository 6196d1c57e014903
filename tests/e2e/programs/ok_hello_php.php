<?php
$words = ['Hello', 'world'];
echo implode(', ', $words), "!\n";
